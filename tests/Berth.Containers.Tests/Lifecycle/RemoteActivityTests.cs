using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Berth.Containers.Tests.Lifecycle;

/// <summary>
/// Requests that another node forwards straight to a container: its object must not put the container to sleep under them
/// (issue 16: "sleepAfter never stops a container with a request in flight on any node"). The object runs on node n1;
/// node n2 is the tracker a test drives by hand, on the same fake clock.
/// </summary>
public sealed class RemoteActivityTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Sleep_RequestInFlightOnAnotherNode_KeepsRunningWhileReportedThenSleeps()
    {
        await using var silo = await LifecycleSilo.StartAsync();
        var container = silo.Get("remote-busy");
        var tracker = Tracker(silo, "n2");
        await silo.DriveAsync(container.EnsureReadyFromNodeAsync(0, "n2", CancellationToken.None), Minute);
        var request = tracker.Enter(nameof(Web), container.GetPrimaryKeyString(), container);

        // Far past sleepAfter (10 s), with n2 reporting its request every second as it does.
        for (var i = 0; i < 30; i++)
        {
            silo.Time.Advance(TimeSpan.FromSeconds(1));
            await tracker.ReportAsync(CancellationToken.None);
        }

        await Task.Delay(TimeSpan.FromSeconds(2.5)); // the activity timer fires at least twice
        Assert.Equal(ContainerObjectState.Healthy, (await container.GetStateAsync()).State);

        request.Exit();
        await tracker.ReportAsync(CancellationToken.None);
        silo.Time.Advance(TimeSpan.FromSeconds(11));
        await silo.EventuallyAsync(async () => (await container.GetStateAsync()).State != ContainerObjectState.Healthy, "sleep after the request ended on n2");
        Assert.Equal("sleep", (await container.GetStateAsync()).Reason);
    }

    [Fact]
    public async Task Sleep_ReadyAnsweredToAnotherNode_HeldUntilThatNodeReports()
    {
        // Reports every 5 s: the ready answer alone holds the container 15 s, longer than its sleepAfter of 10 s.
        await using var silo = await LifecycleSilo.StartAsync(o => o.RemoteActivityInterval = TimeSpan.FromSeconds(5));
        var container = silo.Get("remote-first");
        await silo.DriveAsync(container.EnsureReadyFromNodeAsync(0, "n2", CancellationToken.None), Minute);

        silo.Time.Advance(TimeSpan.FromSeconds(12));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal(ContainerObjectState.Healthy, (await container.GetStateAsync()).State);
    }

    [Fact]
    public async Task Sleep_NodeStopsReporting_HoldLapsesAndContainerSleeps()
    {
        await using var silo = await LifecycleSilo.StartAsync();
        var container = silo.Get("remote-dead");
        var tracker = Tracker(silo, "n2");
        await silo.DriveAsync(container.EnsureReadyFromNodeAsync(0, "n2", CancellationToken.None), Minute);
        tracker.Enter(nameof(Web), container.GetPrimaryKeyString(), container);
        await tracker.ReportAsync(CancellationToken.None);

        // n2 dies with its request in flight: no more reports, the hold lapses after 3 s and sleepAfter runs.
        silo.Time.Advance(TimeSpan.FromSeconds(11));
        await silo.EventuallyAsync(async () => (await container.GetStateAsync()).State != ContainerObjectState.Healthy, "sleep after n2 stopped reporting");
        Assert.Equal("sleep", (await container.GetStateAsync()).Reason);
    }

    [Fact]
    public async Task Sleep_ReadyAnsweredToItsOwnNode_NoHold()
    {
        await using var silo = await LifecycleSilo.StartAsync(o => o.RemoteActivityInterval = TimeSpan.FromSeconds(30));
        var container = silo.Get("local");
        await silo.DriveAsync(container.EnsureReadyFromNodeAsync(0, "n1", CancellationToken.None), Minute);

        silo.Time.Advance(TimeSpan.FromSeconds(11));
        await silo.EventuallyAsync(async () => (await container.GetStateAsync()).State != ContainerObjectState.Healthy, "sleep");
    }

    [Fact]
    public async Task Tracker_RequestsEnded_ReportsZeroOnceThenForgetsTheObject()
    {
        await using var silo = await LifecycleSilo.StartAsync();
        var container = silo.Get("forget");
        var tracker = Tracker(silo, "n2");
        await silo.DriveAsync(container.EnsureReadyFromNodeAsync(0, "n2", CancellationToken.None), Minute);
        var first = tracker.Enter(nameof(Web), container.GetPrimaryKeyString(), container);
        var second = tracker.Enter(nameof(Web), container.GetPrimaryKeyString(), container);
        Assert.Equal(1, tracker.Count);

        first.Exit();
        second.Exit();
        await tracker.ReportAsync(CancellationToken.None);
        Assert.Equal(1, tracker.Count);

        silo.Time.Advance(Minute);
        await tracker.ReportAsync(CancellationToken.None);
        Assert.Equal(0, tracker.Count);

        // A request after that counts again.
        tracker.Enter(nameof(Web), container.GetPrimaryKeyString(), container);
        Assert.Equal(1, tracker.Count);
    }

    private static RemoteActivityTracker Tracker(LifecycleSilo silo, string node) =>
        new(Options.Create(new ContainerOptions { NodeId = node }), silo.Time, NullLogger<RemoteActivityTracker>.Instance);
}
