using Berth.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Hosting.Tests;

/// <summary>The platform's log ring, its provider and a follower's bounded queue.</summary>
public sealed partial class LogsBufferTests
{
    private static LiveLogRecord Record(int i, string message = "m") =>
        new(DateTimeOffset.UnixEpoch.AddSeconds(i), LiveLogRecord.PlatformSource, null, null, null, null, null, "information", "c", null, null, $"{message}{i}");

    [Fact]
    public void Add_MoreThanBufferRecords_KeepsTheNewest()
    {
        var buffer = new PlatformLogBuffer(10, long.MaxValue);

        for (var i = 0; i < 25; i++)
        {
            buffer.Add(Record(i));
        }

        Assert.Equal(Enumerable.Range(15, 10).Select(i => $"m{i}"), buffer.Snapshot().Select(r => r.Message));
    }

    [Fact]
    public void Add_MoreThanBufferBytes_DropsOldestUnderTheBound()
    {
        var buffer = new PlatformLogBuffer(100_000, 64 * 1024);

        for (var i = 0; i < 1000; i++)
        {
            buffer.Add(Record(i, new string('x', 1000)));
        }

        Assert.InRange(buffer.Bytes, 1, 64 * 1024);
        Assert.Equal($"{new string('x', 1000)}999", buffer.Snapshot()[^1].Message);
    }

    [Fact]
    public async Task SlowFollower_ManyRecords_LoggingNeverWaits_FollowerGetsDroppedMarkerThenNewest()
    {
        var buffer = new PlatformLogBuffer(2_000, long.MaxValue);
        var queue = new LiveLogQueue(16, new FakeTimeProvider(), "demo");
        using var subscription = buffer.Subscribe(queue.Post, out _);

        // Nobody reads: every Add still returns (the queue drops its oldest instead of waiting).
        for (var i = 0; i < 1000; i++)
        {
            buffer.Add(Record(i));
        }

        queue.Complete();
        var read = new List<LiveLogRecord>();
        await foreach (var record in queue.ReadAllAsync(CancellationToken.None))
        {
            read.Add(record);
        }

        Assert.Equal(984, queue.DroppedTotal);
        Assert.Equal(LiveLogQueue.DroppedEventName, read[0].Event);
        Assert.Equal(BerthEventIds.Logs + 1, read[0].EventId);
        Assert.StartsWith("dropped 984 log records", read[0].Message, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(984, 16).Select(i => $"m{i}"), read.Skip(1).Select(r => r.Message));
    }

    [LoggerMessage(BerthEventIds.Containers + 17, LogLevel.Information, "{ClassName} {ObjectName} ready in {ElapsedMs:0} ms", EventName = "ContainerObjectReady")]
    private static partial void Ready(ILogger logger, string className, string objectName, double elapsedMs);

    [LoggerMessage(1, LogLevel.Warning, "container {ContainerId} is odd", EventName = "Odd")]
    private static partial void Odd(ILogger logger, string containerId);

    private static (PlatformLogBuffer Buffer, ILoggerFactory Factory) Provider(Action<ILoggingBuilder> configure)
    {
        var buffer = new PlatformLogBuffer(100, long.MaxValue);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var provider = new PlatformLoggerProvider(buffer, time, Options.Create(new LiveLogOptions()));
        var factory = LoggerFactory.Create(b =>
        {
            b.AddProvider(provider);
            configure(b);
        });
        return (buffer, factory);
    }

    [Fact]
    public void Provider_RecordNamingClassAndObject_TaggedWithThem()
    {
        var (buffer, factory) = Provider(_ => { });
        using (factory)
        {
            var objectId = new string('a', 64);
            Ready(factory.CreateLogger("Berth.Containers.Container"), "Sandbox", objectId, 12.3);
            Ready(factory.CreateLogger("Berth.Containers.Container"), "Sandbox", "session-1", 4);
            using (factory.CreateLogger("x").BeginScope(new List<KeyValuePair<string, object?>> { new("ClassName", "Api"), new("ObjectId", objectId) }))
            {
                Odd(factory.CreateLogger("Other"), new string('c', 64));
            }
        }

        var records = buffer.Snapshot();
        Assert.Equal(
            new LiveLogRecord(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), "platform", null, "Sandbox", new string('a', 64), null, null,
                "information", "Berth.Containers.Container", BerthEventIds.Containers + 17, "ContainerObjectReady", $"Sandbox {new string('a', 64)} ready in 12 ms"),
            records[0]);
        Assert.Equal(("Sandbox", null, "session-1"), (records[1].Class, records[1].Object, records[1].ObjectName));
        Assert.Equal(("Api", new string('a', 64), new string('c', 12), "warning"), (records[2].Class, records[2].Object, records[2].Container, records[2].Level));
    }

    [Fact]
    public void Provider_ConfiguredFilter_Respected()
    {
        var (buffer, factory) = Provider(b => b.AddFilter("Berth.Containers", LogLevel.Warning));
        using (factory)
        {
            Ready(factory.CreateLogger("Berth.Containers.Container"), "Sandbox", "s", 1);
            Odd(factory.CreateLogger("Berth.Containers.Container"), "abc");
        }

        Assert.Equal("Odd", Assert.Single(buffer.Snapshot()).Event);
    }

    [Fact]
    public void Record_Json_SnakeCaseEveryFieldUtcTime()
    {
        var record = new LiveLogRecord(new DateTimeOffset(2026, 1, 2, 4, 4, 5, TimeSpan.FromHours(1)), "stdout", "demo", "Sandbox", "ab", null, "0123456789ab",
            null, null, null, null, "hi");

        Assert.Equal(
            """{"time":"2026-01-02T03:04:05.0000000Z","source":"stdout","app":"demo","class":"Sandbox","object":"ab","object_name":null,"container":"0123456789ab","level":null,"category":null,"event_id":null,"event":null,"message":"hi"}""",
            System.Text.Json.JsonSerializer.Serialize(record));
    }

    [Theory]
    [InlineData(5, nameof(LiveLogOptions.BufferRecords))]
    [InlineData(0, nameof(LiveLogOptions.MaxFollowers))]
    public void Options_OutOfRange_FailNamingTheSetting(int value, string setting)
    {
        var options = new LiveLogOptions();
        typeof(LiveLogOptions).GetProperty(setting)!.SetValue(options, value);

        var result = new LiveLogOptionsValidator().Validate(null, options);

        Assert.Contains($"Berth:Logs:{setting}: {value} is not allowed", result.FailureMessage, StringComparison.Ordinal);
    }
}
