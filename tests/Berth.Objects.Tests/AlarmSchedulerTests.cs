using System.Collections.Concurrent;
using Berth.Objects.Alarms;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Objects.Tests;

/// <summary>The scheduler's timing logic on a fake clock, with a real index file and a recording dispatcher.</summary>
public sealed class AlarmSchedulerTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "berth-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-22T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly RecordingDispatcher _dispatcher = new();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Schedule_DueTimeReached_DeliversAtThatMillisecond()
    {
        using var scheduler = await StartAsync();

        scheduler.Schedule("g/a", _time.GetUtcNow().AddMilliseconds(1500));
        _time.Advance(TimeSpan.FromMilliseconds(1499));
        Assert.Empty(_dispatcher.Delivered);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(["g/a"], _dispatcher.Delivered);
    }

    [Fact]
    public async Task Schedule_SeveralObjects_DeliversInDueOrder()
    {
        using var scheduler = await StartAsync();
        var now = _time.GetUtcNow();

        scheduler.Schedule("g/late", now.AddSeconds(3));
        scheduler.Schedule("g/early", now.AddSeconds(1));
        scheduler.Schedule("g/middle", now.AddSeconds(2));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["g/early"], _dispatcher.Delivered);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(["g/early", "g/middle", "g/late"], _dispatcher.Delivered);
    }

    [Fact]
    public async Task Schedule_MovedEarlier_RearmsTimer()
    {
        using var scheduler = await StartAsync();
        var now = _time.GetUtcNow();

        scheduler.Schedule("g/a", now.AddHours(5));
        scheduler.Schedule("g/a", now.AddMilliseconds(10));
        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.Equal(["g/a"], _dispatcher.Delivered);
    }

    [Fact]
    public async Task Cancel_BeforeDue_NeverDelivers()
    {
        using var scheduler = await StartAsync();

        scheduler.Schedule("g/a", _time.GetUtcNow().AddSeconds(1));
        scheduler.Cancel("g/a");
        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.Empty(_dispatcher.Delivered);
        Assert.Equal(0, scheduler.PendingCount);
    }

    [Fact]
    public async Task Delivered_ObjectNeverReportsBack_RedeliveredAfterLease()
    {
        using var scheduler = await StartAsync();

        scheduler.Schedule("g/a", _time.GetUtcNow());
        _time.Advance(TimeSpan.Zero);
        Assert.Single(_dispatcher.Delivered);
        _time.Advance(AlarmScheduler.DeliveryLease - TimeSpan.FromMilliseconds(1));
        Assert.Single(_dispatcher.Delivered);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(["g/a", "g/a"], _dispatcher.Delivered);
    }

    [Fact]
    public async Task Delivery_Throws_RedeliveredAfterLease()
    {
        using var scheduler = await StartAsync();
        _dispatcher.FailWith = new InvalidOperationException("silo busy");

        scheduler.Schedule("g/a", _time.GetUtcNow().AddSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));
        _dispatcher.FailWith = null;
        _time.Advance(AlarmScheduler.DeliveryLease);

        Assert.Equal(["g/a", "g/a"], _dispatcher.Delivered);
    }

    [Fact]
    public async Task NewScheduler_SameIndex_LoadsPendingAlarmsAndDeliversOverdueAtStart()
    {
        var now = _time.GetUtcNow();
        using (var first = await StartAsync())
        {
            first.Schedule("g/overdue", now.AddSeconds(1));
            first.Schedule("g/future", now.AddSeconds(10));
            first.Schedule("g/cancelled", now.AddSeconds(2));
            first.Cancel("g/cancelled");
            await first.StopAsync(CancellationToken.None);
        }

        _time.Advance(TimeSpan.FromSeconds(5)); // "down" past the first alarm
        using var second = await StartAsync();
        _time.Advance(TimeSpan.Zero);
        Assert.Equal(["g/overdue"], _dispatcher.Delivered);
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(["g/overdue", "g/future"], _dispatcher.Delivered);
        Assert.Equal(2, second.PendingCount); // both still leased until their objects report back
    }

    [Fact]
    public async Task Schedule_BeforeStart_DeliveredOnceStarted()
    {
        using var scheduler = new AlarmScheduler(new AlarmIndex(Path.Combine(_directory, "alarms.db")), _dispatcher, _time, NullLogger<AlarmScheduler>.Instance);
        scheduler.Schedule("g/a", _time.GetUtcNow());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(_dispatcher.Delivered);

        await scheduler.StartAsync(CancellationToken.None);
        _time.Advance(TimeSpan.Zero);

        Assert.Equal(["g/a"], _dispatcher.Delivered);
    }

    private async Task<AlarmScheduler> StartAsync()
    {
        var scheduler = new AlarmScheduler(new AlarmIndex(Path.Combine(_directory, "alarms.db")), _dispatcher, _time, NullLogger<AlarmScheduler>.Instance);
        await scheduler.StartAsync(CancellationToken.None);
        return scheduler;
    }

    private sealed class RecordingDispatcher : IAlarmDispatcher
    {
        private readonly ConcurrentQueue<string> _delivered = new();

        public Exception? FailWith { get; set; }

        public IReadOnlyList<string> Delivered => [.. _delivered];

        public Task DeliverAsync(string grainId, CancellationToken cancellationToken)
        {
            _delivered.Enqueue(grainId);
            return FailWith is null ? Task.CompletedTask : Task.FromException(FailWith);
        }
    }
}
