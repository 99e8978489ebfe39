using System.Globalization;
using System.Text.Json;
using Berth.Containers;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

// Usage (issue 15, metering): see docs/metering.md.
public static partial class BerthAdminExtensions
{
    private static readonly JsonSerializerOptions UsageJson = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static void MapUsage(RouteGroupBuilder group) => group.MapGet("/usage", UsageAsync);

    private static async Task<IResult> UsageAsync(
        string? since, string? until, string? by, string? @class, IServiceProvider services, BerthAppConfig config, IOptions<ContainerOptions> node,
        CancellationToken cancellationToken)
    {
        if (services.GetService<UsageRecorder>() is not { } recorder)
        {
            return Results.Problem("Metering is not registered on this host (AddBerth registers it).", statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Metering unavailable");
        }

        var now = (services.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();
        var grouping = by switch
        {
            null or "class" => UsageGrouping.Class,
            "object" => UsageGrouping.Object,
            "hour" => UsageGrouping.Hour,
            _ => (UsageGrouping?)null,
        };
        if (grouping is null)
        {
            return BadUsageQuery($"by: '{Shorten(by!)}' is not allowed; allowed: class (the default), object or hour.");
        }

        if (!TryUsageTime(since, "since", out var from, out var sinceProblem))
        {
            return sinceProblem!;
        }

        if (!TryUsageTime(until, "until", out var to, out var untilProblem))
        {
            return untilProblem!;
        }

        var start = from ?? new DateTimeOffset(now.UtcDateTime.Year, now.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var end = to ?? now;
        if (end <= start)
        {
            return BadUsageQuery($"until: {end:O} is not after since ({start:O}); allowed: a time after since.");
        }

        if (@class is not null && UnknownClass(config, @class) is { } unknown)
        {
            return unknown;
        }

        var app = node.Value.AppName;
        var records = await recorder.GetUsageAsync(app, start, end, @class, cancellationToken);
        var options = services.GetRequiredService<IOptions<MeteringOptions>>().Value;
        var report = UsageReport.Create(app, start, end, grouping.Value, records, options);
        return Results.Json(report, UsageJson);
    }

    private static bool TryUsageTime(string? text, string name, out DateTimeOffset? value, out IResult? problem)
    {
        value = null;
        problem = null;
        if (text is null)
        {
            return true;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            || parsed < DateTimeOffset.UnixEpoch || parsed.Year > 9000)
        {
            problem = BadUsageQuery($"{name}: '{Shorten(text)}' is not allowed; allowed: an ISO-8601 time such as 2026-01-02T03:04:05Z.");
            return false;
        }

        value = parsed;
        return true;
    }

    /// <summary>The longest the container list waits for the running containers' counters (then it answers without the slow ones).</summary>
    private static readonly TimeSpan ResourceReadBudget = TimeSpan.FromMilliseconds(500);

    /// <summary>CPU and memory of the running <paramref name="containers"/>, read at once and bounded by <see cref="ResourceReadBudget"/>.</summary>
    private static async Task<Dictionary<string, ContainerResourceSample>> ReadResourcesAsync(
        IReadOnlyList<ContainerSummary> containers, IServiceProvider services, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, ContainerResourceSample>(StringComparer.Ordinal);
        if (services.GetService<IContainerResourceReader>() is not { } reader)
        {
            return result;
        }

        using var timeout = new CancellationTokenSource(ResourceReadBudget, services.GetService<TimeProvider>() ?? TimeProvider.System);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var reads = containers.Where(c => c.State == EngineContainerState.Running).Select(async c =>
        {
            try
            {
                return (c.Id, Sample: await reader.ReadAsync(c.Id, budget.Token));
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return (c.Id, Sample: (ContainerResourceSample?)null);
            }
        });
        foreach (var (id, sample) in await Task.WhenAll(reads))
        {
            if (sample is not null)
            {
                result[id] = sample;
            }
        }

        return result;
    }

    private static IResult BadUsageQuery(string detail) =>
        Results.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad request");
}
