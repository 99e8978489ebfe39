using Xunit.Abstractions;

namespace Berth.Objects.Tests;

[Collection(nameof(SharedSilo))]
public sealed class AlarmTests(SharedSilo shared, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private TestSilo Silo => shared.Silo;

    [Fact]
    public async Task SetAlarm_RealClock_FiresOnceAtScheduledTimeWithinBound()
    {
        var id = Silo.Counters.NewUniqueId();
        var counter = Silo.Counters.Get(id);
        var scheduled = DateTimeOffset.FromUnixTimeMilliseconds(TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() + 300);

        await counter.SetAlarmAsync(scheduled);
        Assert.Equal(scheduled, await counter.GetAlarmAsync());
        var (_, invocation, firedAt) = await Silo.Probe.Alarms.Reader.ReadWithinAsync(Wait, a => a.Id == id.ToString());

        var lateness = firedAt - scheduled;
        output.WriteLine($"alarm fired {lateness.TotalMilliseconds:F1} ms after its scheduled time");
        Assert.Equal(scheduled, invocation.ScheduledTime);
        Assert.False(invocation.IsRetry);
        Assert.True(lateness >= TimeSpan.Zero, $"fired {lateness} early");
        Assert.True(lateness < TimeSpan.FromSeconds(1), $"fired {lateness} late"); // generous: a busy 2-core CI machine
        Assert.Null(await counter.GetAlarmAsync());
    }

    [Fact]
    public async Task AlarmHandler_Fails_RetriedWithBackoffAndVisibleRetryCount()
    {
        var id = Silo.Counters.NewUniqueId();
        var counter = Silo.Counters.Get(id);
        await counter.FailAlarmTimesAsync(2);

        await counter.SetAlarmAsync(TimeProvider.System.GetUtcNow());
        var attempts = new List<(AlarmInvocation Invocation, DateTimeOffset FiredAt)>();
        for (var i = 0; i < 3; i++)
        {
            var (_, invocation, firedAt) = await Silo.Probe.Alarms.Reader.ReadWithinAsync(Wait, a => a.Id == id.ToString());
            attempts.Add((invocation, firedAt));
        }

        Assert.Equal([0, 1, 2], attempts.Select(a => a.Invocation.RetryCount));
        Assert.Equal([false, true, true], attempts.Select(a => a.Invocation.IsRetry));
        Assert.All(attempts, a => Assert.Equal(attempts[0].Invocation.ScheduledTime, a.Invocation.ScheduledTime));
        // Initial delay 100 ms, doubling: at least 100 ms then 200 ms between attempts.
        Assert.True(attempts[1].FiredAt - attempts[0].FiredAt >= TimeSpan.FromMilliseconds(100));
        Assert.True(attempts[2].FiredAt - attempts[1].FiredAt >= TimeSpan.FromMilliseconds(200));
        Assert.Null(await counter.GetAlarmAsync()); // the third attempt succeeded
    }

    [Fact]
    public async Task AlarmHandler_AlwaysFails_StopsAfterMaxRetries()
    {
        await using var silo = await TestSilo.StartAsync(o =>
        {
            o.AlarmMaxRetries = 2;
            o.AlarmRetryInitialDelay = TimeSpan.FromMilliseconds(50);
        });
        var id = silo.Counters.NewUniqueId();
        var counter = silo.Counters.Get(id);
        await counter.FailAlarmTimesAsync(int.MaxValue);
        var control = silo.Counters.NewUniqueId();

        await counter.SetAlarmAsync(TimeProvider.System.GetUtcNow());
        var retryCounts = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            retryCounts.Add((await silo.Probe.Alarms.Reader.ReadWithinAsync(Wait, a => a.Id == id.ToString())).Invocation.RetryCount);
        }

        // A later alarm on another object marks the time by which a fourth attempt would have come (it would be due after 200 ms).
        await silo.Counters.Get(control).SetAlarmAsync(TimeProvider.System.GetUtcNow().AddMilliseconds(600));
        var next = await silo.Probe.Alarms.Reader.ReadWithinAsync(Wait);

        Assert.Equal([0, 1, 2], retryCounts);
        Assert.Equal(control.ToString(), next.Id);
        Assert.Null(await counter.GetAlarmAsync());
    }

    [Fact]
    public async Task DeleteAlarm_BeforeDue_NeverFires()
    {
        var deleted = Silo.Counters.NewUniqueId();
        var kept = Silo.Counters.NewUniqueId();
        var now = TimeProvider.System.GetUtcNow();
        // Seconds, not milliseconds, apart: on a loaded machine three grain calls can take longer than 300 ms, and then the
        // first alarm fires, rightly, before the delete reaches it.
        await Silo.Counters.Get(deleted).SetAlarmAsync(now.AddSeconds(2));
        await Silo.Counters.Get(kept).SetAlarmAsync(now.AddSeconds(2.5));

        await Silo.Counters.Get(deleted).DeleteAlarmAsync();
        var first = await Silo.Probe.Alarms.Reader.ReadWithinAsync(Wait, a => a.Id == deleted.ToString() || a.Id == kept.ToString());

        Assert.Equal(kept.ToString(), first.Id);
        Assert.Null(await Silo.Counters.Get(deleted).GetAlarmAsync());
    }

    [Fact]
    public async Task Alarm_ObjectDeactivatedBeforeDue_ReactivatesAndFires()
    {
        var id = Silo.Counters.NewUniqueId();
        var counter = Silo.Counters.Get(id);
        await counter.SetAlarmAsync(TimeProvider.System.GetUtcNow().AddMilliseconds(500));

        await counter.DeactivateAsync();
        await Silo.Probe.Deactivated.Reader.ReadWithinAsync(Wait, d => d == id.ToString());
        await Silo.Probe.Alarms.Reader.ReadWithinAsync(Wait, a => a.Id == id.ToString());

        Assert.Equal(2, Silo.Probe.Activations[id.ToString()]);
    }

    [Fact]
    public async Task SetAlarm_Twice_OnlyLatestFires()
    {
        var id = Silo.Counters.NewUniqueId();
        var counter = Silo.Counters.Get(id);
        var now = TimeProvider.System.GetUtcNow();
        // Seconds apart (see DeleteAlarm_BeforeDue_NeverFires): the first must still be pending when the second call lands.
        var latest = DateTimeOffset.FromUnixTimeMilliseconds(now.AddSeconds(2.5).ToUnixTimeMilliseconds());

        await counter.SetAlarmAsync(now.AddSeconds(2));
        await counter.SetAlarmAsync(latest);
        var fired = await Silo.Probe.Alarms.Reader.ReadWithinAsync(Wait, a => a.Id == id.ToString());

        Assert.Equal(latest, fired.Invocation.ScheduledTime);
        Assert.True(fired.FiredAt >= latest);
    }
}
