using System.Reflection;
using Berth.Diagnostics;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Berth.Hosting.Tests;

/// <summary>Every [LoggerMessage] of every Berth assembly has a platform-wide unique event ID inside its component's range.</summary>
public sealed class EventIdTests
{
    // Which BerthEventIds ranges each assembly may use (Berth.Hosting holds the host, admin, cron, image and config parts).
    private static readonly Dictionary<string, string[]> s_rangesByAssembly = new(StringComparer.Ordinal)
    {
        ["Berth.Objects"] = [nameof(BerthEventIds.Objects)],
        ["Berth.Containers"] = [nameof(BerthEventIds.Containers)],
        ["Berth.Docker"] = [nameof(BerthEventIds.Docker)],
        ["Berth.Egress"] = [nameof(BerthEventIds.Egress)],
        ["Berth.Gateway"] = [nameof(BerthEventIds.Gateway)],
        ["Berth.Hosting"] = [nameof(BerthEventIds.Hosting), nameof(BerthEventIds.Admin), nameof(BerthEventIds.Cron), nameof(BerthEventIds.Images), nameof(BerthEventIds.Config), nameof(BerthEventIds.Metering), nameof(BerthEventIds.Telemetry), nameof(BerthEventIds.Logs), nameof(BerthEventIds.Dashboard)],
        ["Berth.Cli"] = [nameof(BerthEventIds.Cli)],
        ["Berth.Cluster"] = [nameof(BerthEventIds.Cluster)],
        ["Berth.Replication"] = [nameof(BerthEventIds.Replication)],
        ["Berth.Storage"] = [],
        ["Berth.Abstractions"] = [],
        ["Berth.Testing"] = [],
    };

    [Fact]
    public void LoggerMessages_AllBerthAssemblies_EventIdsUniqueAndInsideTheirComponentRange()
    {
        var ranges = typeof(BerthEventIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.Name != nameof(BerthEventIds.RangeSize))
            .ToDictionary(f => f.Name, f => (int)f.GetRawConstantValue()!, StringComparer.Ordinal);
        var messages = BerthAssemblies().SelectMany(LoggerMessages).ToList();

        // Not vacuous: each component that logs today is found.
        foreach (var assembly in new[] { "Berth.Objects", "Berth.Containers", "Berth.Docker", "Berth.Egress", "Berth.Gateway", "Berth.Hosting" })
        {
            Assert.Contains(messages, m => m.Assembly == assembly);
        }

        var problems = new List<string>();
        foreach (var duplicate in messages.GroupBy(m => m.Attribute.EventId).Where(g => g.Count() > 1))
        {
            problems.Add($"event ID {duplicate.Key} is used by {string.Join(", ", duplicate.Select(m => m.Method))}");
        }

        foreach (var duplicate in messages.GroupBy(m => m.Attribute.EventName, StringComparer.Ordinal).Where(g => g.Key is not null && g.Count() > 1))
        {
            problems.Add($"event name {duplicate.Key} is used by {string.Join(", ", duplicate.Select(m => m.Method))}");
        }

        foreach (var message in messages)
        {
            var id = message.Attribute.EventId;
            if (string.IsNullOrEmpty(message.Attribute.EventName))
            {
                problems.Add($"{message.Method} has no explicit EventName");
            }

            if (!s_rangesByAssembly.TryGetValue(message.Assembly, out var allowed))
            {
                problems.Add($"{message.Method}: assembly {message.Assembly} has no event ID range; add it to BerthEventIds and this test");
                continue;
            }

            // n runs from 1: the range start itself is not an event.
            if (!allowed.Any(name => id > ranges[name] && id < ranges[name] + BerthEventIds.RangeSize))
            {
                problems.Add($"{message.Method} uses event ID {id}, outside the range(s) {string.Join(", ", allowed)} of {message.Assembly}");
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void BerthEventIds_Ranges_DoNotOverlap()
    {
        var starts = typeof(BerthEventIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.Name != nameof(BerthEventIds.RangeSize))
            .Select(f => (int)f.GetRawConstantValue()!)
            .Order()
            .ToList();

        Assert.NotEmpty(starts);
        Assert.All(starts.Zip(starts.Skip(1)), pair => Assert.True(pair.Second - pair.First >= BerthEventIds.RangeSize, $"{pair.First} and {pair.Second} overlap"));
    }

    private static IEnumerable<Assembly> BerthAssemblies() =>
        Directory.EnumerateFiles(AppContext.BaseDirectory, "Berth.*.dll")
            .Select(Path.GetFileNameWithoutExtension)
            .Where(name => name is not null && !name.EndsWith(".Tests", StringComparison.Ordinal))
            .Select(name => Assembly.Load(name!));

    private static IEnumerable<(string Assembly, string Method, LoggerMessageAttribute Attribute)> LoggerMessages(Assembly assembly) =>
        from type in assembly.GetTypes()
        from method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        let attribute = method.GetCustomAttribute<LoggerMessageAttribute>()
        where attribute is not null
        select (assembly.GetName().Name!, $"{type.FullName}.{method.Name}", attribute);
}
