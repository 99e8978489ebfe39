using Berth.Containers.Tests.Lifecycle;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Containers.Tests.Rollouts;

/// <summary>
/// Rollouts on the fake runtime and a fake clock: which version a start runs, steps, drain and grace, split, rollback, resume.
/// The real-engine tests in Berth.Gateway.Tests prove SIGTERM/SIGKILL and live streams on Docker.
/// </summary>
public sealed class RolloutCoordinatorTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task Start_ClassHasTraffic_RunsTheVersionsImageLabelledWithItsNumber()
    {
        var versions = new InMemoryClassVersionStore();
        await using var silo = await StartAsync(versions);
        await RecordAsync(versions, 2);
        await versions.SetTrafficAsync(new ClassTraffic(nameof(Web), 2, null, 0));

        await silo.DriveAsync(silo.Get("a").EnsureReadyAsync(0), Minute);

        var spec = Assert.Single(silo.Runtime.Specs);
        Assert.Equal("berth/web:v2", spec.Image);
        Assert.Equal("2", spec.Labels[BerthLabels.Version]);
    }

    [Fact]
    public async Task Start_NoVersionStore_ImageOfTheClassAndItsTagAsLabel()
    {
        await using var silo = await LifecycleSilo.StartAsync();

        await silo.DriveAsync(silo.Get("a").EnsureReadyAsync(0), Minute);

        var spec = Assert.Single(silo.Runtime.Specs);
        Assert.Equal("berth/web:1", spec.Image);
        Assert.Equal("1", spec.Labels[BerthLabels.Version]);
    }

    [Fact]
    public async Task Rollout_TenInstancesStepsTenAndHundred_ExactlyTheOldestFirstThenTheRest()
    {
        var versions = new InMemoryClassVersionStore();
        await using var silo = await StartAsync(versions, grace: TimeSpan.FromMinutes(5));
        await RecordAsync(versions, 2);
        await versions.SetTrafficAsync(new ClassTraffic(nameof(Web), 1, null, 0));
        var names = Enumerable.Range(0, 10).Select(i => $"o{i}").ToList();
        foreach (var name in names)
        {
            await silo.DriveAsync(silo.Get(name).EnsureReadyAsync(0), Minute);
            silo.Time.Advance(TimeSpan.FromSeconds(1));
        }

        // A request stays in flight on the oldest: the first step waits on its drain, and nothing else is touched meanwhile.
        var oldestContainer = (await silo.Get("o0").GetStateAsync()).ContainerId;
        var oldest = silo.Leases.Find(nameof(Web), silo.Get("o0").GetPrimaryKeyString())!;
        Assert.True(oldest.TryEnter(out _));
        var started = await Coordinator(silo).StartAsync(new RolloutRequest(nameof(Web), 2));
        Assert.Equal(10, started.Total);
        Assert.Equal([10, 100], started.Steps);

        await silo.EventuallyAsync(async () => (await silo.Get("o0").GetStateAsync()).State == ContainerObjectState.Stopping, "the oldest drains", Step);
        await AdvanceAsync(silo, TimeSpan.FromSeconds(30));
        Assert.Empty(silo.Runtime.Stops);
        foreach (var name in names.Skip(1))
        {
            Assert.Equal(ContainerObjectState.Healthy, (await silo.Get(name).GetStateAsync()).State);
        }

        var during = await Coordinator(silo).GetStatusAsync(nameof(Web));
        Assert.Equal((0, 0, RolloutStates.Running), (during!.StepIndex, during.Replaced, during.State));

        oldest.Exit();
        await silo.EventuallyAsync(async () => (await Coordinator(silo).GetStatusAsync(nameof(Web)))!.State == RolloutStates.Completed, "rollout completes", Step);
        var done = (await Coordinator(silo).GetStatusAsync(nameof(Web)))!;
        Assert.Equal((2, 10, 10), (done.StepIndex, done.Replaced, done.Total));
        Assert.Equal(10, silo.Runtime.Stops.Count);
        Assert.Equal(oldestContainer, silo.Runtime.Stops[0].ContainerId);
        Assert.Equal(10, silo.Hooks.Entries.Count(e => e == "stop:Replaced:143"));

        // The next request of every object runs version 2.
        foreach (var name in names)
        {
            await silo.DriveAsync(silo.Get(name).EnsureReadyAsync(0), Minute);
        }

        Assert.All(RunningVersions(silo), v => Assert.Equal("2", v));
        Assert.Equal(10, RunningVersions(silo).Count);
    }

    [Fact]
    public async Task Rollout_RequestInFlight_NotCutBeforeItEndsAndStopGetsTheRestOfTheGrace()
    {
        var versions = new InMemoryClassVersionStore();
        await using var silo = await StartAsync(versions, grace: TimeSpan.FromSeconds(60));
        await RecordAsync(versions, 2);
        await versions.SetTrafficAsync(new ClassTraffic(nameof(Web), 1, null, 0));
        var container = silo.Get("busy");
        await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);
        var lease = silo.Leases.Find(nameof(Web), container.GetPrimaryKeyString())!;
        Assert.True(lease.TryEnter(out _));

        await Coordinator(silo).StartAsync(new RolloutRequest(nameof(Web), 2));
        await silo.EventuallyAsync(async () => (await container.GetStateAsync()).State == ContainerObjectState.Stopping, "drain begins", Step);
        var drainBegan = silo.Time.GetUtcNow();

        // New requests no longer enter the draining container; the one in flight goes on.
        Assert.False(lease.TryEnter(out _));
        await AdvanceAsync(silo, TimeSpan.FromSeconds(20));
        Assert.Empty(silo.Runtime.Stops);

        lease.Exit();
        await silo.EventuallyAsync(() => Task.FromResult(silo.Runtime.Stops.Count == 1), "stopped after the request ended", TimeSpan.FromMilliseconds(50));
        var (_, stop) = silo.Runtime.Stops[0];
        Assert.Equal(ContainerSignal.SIGTERM, stop.Signal);
        var elapsed = silo.Time.GetUtcNow() - drainBegan;
        Assert.InRange(stop.GracePeriod, TimeSpan.FromSeconds(60) - elapsed - TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(40) + TimeSpan.FromSeconds(1));
        Assert.Contains("stop:Replaced:143", silo.Hooks.Entries);
    }

    [Fact]
    public async Task Rollout_RequestNeverEnds_StoppedWhenTheGraceRunsOut()
    {
        var versions = new InMemoryClassVersionStore();
        await using var silo = await StartAsync(versions, grace: TimeSpan.FromSeconds(60));
        await RecordAsync(versions, 2);
        await versions.SetTrafficAsync(new ClassTraffic(nameof(Web), 1, null, 0));
        var container = silo.Get("stuck");
        await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);
        var lease = silo.Leases.Find(nameof(Web), container.GetPrimaryKeyString())!;
        Assert.True(lease.TryEnter(out _));

        await Coordinator(silo).StartAsync(new RolloutRequest(nameof(Web), 2));
        await silo.EventuallyAsync(async () => (await container.GetStateAsync()).State == ContainerObjectState.Stopping, "drain begins", Step);
        var drainBegan = silo.Time.GetUtcNow();
        await silo.EventuallyAsync(() => Task.FromResult(silo.Runtime.Stops.Count == 1), "stopped at the grace", TimeSpan.FromSeconds(1));

        Assert.True(silo.Time.GetUtcNow() - drainBegan >= TimeSpan.FromSeconds(59), $"stopped after {silo.Time.GetUtcNow() - drainBegan}");
        Assert.Equal(TimeSpan.FromSeconds(1), silo.Runtime.Stops[0].Options.GracePeriod);
    }

    [Fact]
    public async Task Rollout_YoungerThanActiveGrace_LeftUntilItIsOldEnough()
    {
        var versions = new InMemoryClassVersionStore();
        await using var silo = await StartAsync(versions, activeGrace: TimeSpan.FromMinutes(5));
        await RecordAsync(versions, 2);
        await versions.SetTrafficAsync(new ClassTraffic(nameof(Web), 1, null, 0));
        await silo.DriveAsync(silo.Get("young").EnsureReadyAsync(0), Minute);
        var created = silo.Time.GetUtcNow();

        await Coordinator(silo).StartAsync(new RolloutRequest(nameof(Web), 2));
        await silo.EventuallyAsync(() => Task.FromResult(silo.Runtime.Stops.Count == 1), "replaced once old enough", TimeSpan.FromSeconds(5));

        Assert.True(silo.Time.GetUtcNow() - created >= TimeSpan.FromMinutes(5), $"replaced at age {silo.Time.GetUtcNow() - created}");
    }

    [Fact]
    public async Task Rollout_TenPercentSplit_OnlyIdsMappedToTheCandidateReplacedAndNewIdsSticky()
    {
        var versions = new InMemoryClassVersionStore();
        await using var silo = await StartAsync(versions);
        await RecordAsync(versions, 2);
        await versions.SetTrafficAsync(new ClassTraffic(nameof(Web), 1, null, 0));
        var names = Enumerable.Range(0, 30).Select(i => $"split-{i}").ToList();
        foreach (var name in names)
        {
            await silo.DriveAsync(silo.Get(name).EnsureReadyAsync(0), Minute);
        }

        var split = new ClassTraffic(nameof(Web), 1, 2, 10);
        var expected = names.Where(n => split.VersionFor(silo.Get(n).GetPrimaryKeyString()) == 2).ToList();
        Assert.NotEmpty(expected);
        var started = await Coordinator(silo).StartAsync(new RolloutRequest(nameof(Web), 2, Percent: 10));
        Assert.Equal(expected.Count, started.Total);
        await silo.EventuallyAsync(async () => (await Coordinator(silo).GetStatusAsync(nameof(Web)))!.State == RolloutStates.Completed, "split completes", Step);

        Assert.Equal(split, await versions.GetTrafficAsync(nameof(Web)));
        Assert.Equal(expected.Count, silo.Runtime.Stops.Count);
        foreach (var name in names)
        {
            await silo.DriveAsync(silo.Get(name).EnsureReadyAsync(0), Minute);
            Assert.Equal(split.VersionFor(silo.Get(name).GetPrimaryKeyString()).ToString(System.Globalization.CultureInfo.InvariantCulture), VersionOf(silo, name));
        }
    }

    [Fact]
    public async Task Rollback_AfterRolloutToTwo_EveryContainerBackOnOne()
    {
        var versions = new InMemoryClassVersionStore();
        await using var silo = await StartAsync(versions);
        await RecordAsync(versions, 2);
        await versions.SetTrafficAsync(new ClassTraffic(nameof(Web), 1, null, 0));
        var names = Enumerable.Range(0, 4).Select(i => $"rb-{i}").ToList();
        foreach (var name in names)
        {
            await silo.DriveAsync(silo.Get(name).EnsureReadyAsync(0), Minute);
        }

        await RollAndWakeAsync(silo, names, new RolloutRequest(nameof(Web), 2));
        Assert.All(RunningVersions(silo), v => Assert.Equal("2", v));

        var back = await RollAndWakeAsync(silo, names, new RolloutRequest(nameof(Web), 1, Trigger: "rollback"));

        Assert.Equal((2, 1, 4), (back.FromVersion, back.ToVersion, back.Replaced));
        Assert.Equal(4, RunningVersions(silo).Count);
        Assert.All(RunningVersions(silo), v => Assert.Equal("1", v));
    }

    [Fact]
    public async Task Restart_MidRollout_ResumesAndFinishes()
    {
        var versions = new InMemoryClassVersionStore();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var runtime = new FakeContainerRuntime(time);
        var dataDirectory = Path.Combine(Path.GetTempPath(), "berth-rollout-tests", Guid.NewGuid().ToString("N"));
        var names = Enumerable.Range(0, 3).Select(i => $"r-{i}").ToList();
        try
        {
            await using (var first = await StartAsync(versions, runtime: runtime, dataDirectory: dataDirectory, time: time))
            {
                await RecordAsync(versions, 2);
                await versions.SetTrafficAsync(new ClassTraffic(nameof(Web), 1, null, 0));
                foreach (var name in names)
                {
                    await first.DriveAsync(first.Get(name).EnsureReadyAsync(0), Minute);
                    first.Time.Advance(TimeSpan.FromSeconds(1));
                }

                // The oldest never drains on this node: the rollout is mid-step when the node stops.
                Assert.True(first.Leases.Find(nameof(Web), first.Get("r-0").GetPrimaryKeyString())!.TryEnter(out _));
                await Coordinator(first).StartAsync(new RolloutRequest(nameof(Web), 2, Percent: 100));
                await first.EventuallyAsync(async () => (await first.Get("r-0").GetStateAsync()).State == ContainerObjectState.Stopping, "drain begins", Step);
            }

            Assert.Equal(3, runtime.RunningCount);
            await using var second = await StartAsync(versions, runtime: runtime, dataDirectory: dataDirectory, time: time);
            await second.EventuallyAsync(async () => (await Coordinator(second).GetStatusAsync(nameof(Web)))?.State == RolloutStates.Completed, "resumed rollout completes", Step);

            var done = (await Coordinator(second).GetStatusAsync(nameof(Web)))!;
            Assert.Equal((2, 3, 3), (done.ToVersion, done.Replaced, done.Total));
            Assert.Equal(0, runtime.RunningCount);
            foreach (var name in names)
            {
                await second.DriveAsync(second.Get(name).EnsureReadyAsync(0), Minute);
            }

            Assert.Equal(["2", "2", "2"], RunningVersions(second));
        }
        finally
        {
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Startup_AdoptedContainersFromBeforeVersions_RolledOutToTheirIdsVersion()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var runtime = new FakeContainerRuntime(time);
        var dataDirectory = Path.Combine(Path.GetTempPath(), "berth-rollout-tests", Guid.NewGuid().ToString("N"));
        var names = Enumerable.Range(0, 3).Select(i => $"s-{i}").ToList();
        try
        {
            // An earlier run of the node, before versions: its containers carry the image's tag as their version label.
            await using (var before = await LifecycleSilo.StartAsync(runtime: runtime, dataDirectory: dataDirectory, time: time,
                services: s => s.Configure<ContainerClassOptions>(nameof(Web), o => o.SleepAfter = TimeSpan.FromDays(1))))
            {
                foreach (var name in names)
                {
                    await before.DriveAsync(before.Get(name).EnsureReadyAsync(0), Minute);
                }
            }

            var versions = new InMemoryClassVersionStore();
            await RecordAsync(versions, 2);
            await versions.SetTrafficAsync(new ClassTraffic(nameof(Web), 2, null, 0));
            await using var silo = await StartAsync(versions, runtime: runtime, dataDirectory: dataDirectory, time: time);
            await silo.EventuallyAsync(async () => (await Coordinator(silo).GetStatusAsync(nameof(Web)))?.State == RolloutStates.Completed, "start-up rollout completes", Step);

            var status = (await Coordinator(silo).GetStatusAsync(nameof(Web)))!;
            Assert.Equal((2, 3, 3), (status.ToVersion, status.Replaced, status.Total));
            Assert.Empty(RunningVersions(silo));
            foreach (var name in names)
            {
                await silo.DriveAsync(silo.Get(name).EnsureReadyAsync(0), Minute);
            }

            Assert.Equal(["2", "2", "2"], RunningVersions(silo));
        }
        finally
        {
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    private static async Task<LifecycleSilo> StartAsync(InMemoryClassVersionStore versions, TimeSpan? grace = null, TimeSpan? activeGrace = null,
        FakeContainerRuntime? runtime = null, string? dataDirectory = null, FakeTimeProvider? time = null) =>
        await LifecycleSilo.StartAsync(maxInstances: 100, runtime: runtime, dataDirectory: dataDirectory, time: time, services: services =>
        {
            services.AddSingleton<IClassVersionStore>(versions);
            services.Configure<ContainerClassOptions>(nameof(Web), o =>
            {
                o.SleepAfter = TimeSpan.FromDays(1);
                o.RolloutStopGracePeriod = grace ?? TimeSpan.FromSeconds(30);
                o.RolloutActiveGracePeriod = activeGrace ?? TimeSpan.Zero;
            });
        });

    private static async Task RecordAsync(InMemoryClassVersionStore versions, int count)
    {
        for (var i = 1; i <= count; i++)
        {
            await versions.RecordAsync(nameof(Web), $"berth/web:v{i}", null, "hash", "test");
        }
    }

    private static async Task<RolloutStatus> RollAndWakeAsync(LifecycleSilo silo, IReadOnlyList<string> names, RolloutRequest request)
    {
        await Coordinator(silo).StartAsync(request);
        await silo.EventuallyAsync(async () => (await Coordinator(silo).GetStatusAsync(nameof(Web)))!.State == RolloutStates.Completed, "rollout completes", Step);
        foreach (var name in names)
        {
            await silo.DriveAsync(silo.Get(name).EnsureReadyAsync(0), Minute);
        }

        return (await Coordinator(silo).GetStatusAsync(nameof(Web)))!;
    }

    /// <summary>Runs the fake clock on by <paramref name="by"/> in small steps, as time passes (a jump would fire RPC timeouts before the slices end).</summary>
    private static async Task AdvanceAsync(LifecycleSilo silo, TimeSpan by)
    {
        for (var passed = TimeSpan.Zero; passed < by; passed += Step)
        {
            silo.Time.Advance(Step);
            await Task.Delay(10);
        }

        await Task.Delay(500);
    }

    private static IRolloutCoordinator Coordinator(LifecycleSilo silo) => silo.Services.GetRequiredService<IRolloutCoordinator>();

    private static string VersionOf(LifecycleSilo silo, string name) =>
        silo.Runtime.Containers.Single(c => c.State == EngineContainerState.Running && c.Labels[BerthLabels.ObjectId] == silo.Get(name).GetPrimaryKeyString()).Labels[BerthLabels.Version];

    private static List<string> RunningVersions(LifecycleSilo silo) =>
        silo.Runtime.Containers.Where(c => c.State == EngineContainerState.Running).Select(c => c.Labels[BerthLabels.Version]).ToList();
}
