using Berth.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Containers.Tests.Lifecycle;

/// <summary>
/// The container object's lifecycle on a fake runtime and a fake clock: no Docker, no sockets; each test runs in about a
/// second. The real-engine tests in Berth.Gateway.Tests prove the Docker path.
/// </summary>
public sealed class ContainerLifecycleTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task EnsureReady_ConcurrentFirstRequests_StartOneContainer()
    {
        await using var silo = await LifecycleSilo.StartAsync();
        silo.Runtime.PortDelay = TimeSpan.FromSeconds(2);
        // An engine call takes time: the concurrent callers interleave while the first create is in flight.
        silo.Runtime.CreateDelay = TimeSpan.FromSeconds(1);
        var container = silo.Get("one");

        var calls = Enumerable.Range(0, 8).Select(_ => container.EnsureReadyAsync(0)).ToArray();
        var results = await silo.DriveAsync(Task.WhenAll(calls), Minute);

        Assert.All(results, r => Assert.Equal(ContainerReadyError.None, r.Error));
        Assert.Single(results.Select(r => r.Endpoint!.ContainerId).Distinct());
        Assert.Equal(1, silo.Runtime.CreatedCount);
        Assert.Equal(["start"], silo.Hooks.Entries);
    }

    [Fact]
    public async Task EnsureReady_PortOpensAfterManyCallSlices_ReadyBeforePortReadyTimeout()
    {
        await using var silo = await LifecycleSilo.StartAsync(o => o.CallSlice = TimeSpan.FromSeconds(5));
        silo.Runtime.PortDelay = TimeSpan.FromSeconds(40);
        var started = silo.Time.GetUtcNow();

        var result = await silo.DriveAsync(silo.Get("slow").EnsureReadyAsync(0), TimeSpan.FromMinutes(2));

        Assert.Equal(ContainerReadyError.None, result.Error);
        // Strict below (never ready before the port opens); loose above, because the fake clock runs on while a loaded
        // machine works through the silo's turns.
        var waited = silo.Time.GetUtcNow() - started;
        Assert.InRange(waited, TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task EnsureReady_NeverListens_PortTimeoutAtConfiguredDeadlineAndNothingLeaks()
    {
        await using var silo = await LifecycleSilo.StartAsync(o => o.PortReadyTimeout = TimeSpan.FromSeconds(90));
        silo.Runtime.PortDelay = null;
        var started = silo.Time.GetUtcNow();

        var result = await silo.DriveAsync(silo.Get("deaf").EnsureReadyAsync(0), TimeSpan.FromMinutes(3), TimeSpan.FromMilliseconds(500));

        Assert.Equal(ContainerReadyError.PortTimeout, result.Error);
        Assert.Contains("90 s", result.Message);
        // Strict below (not before the configured 90 s, not at an inner RPC limit); loose above, because the fake clock runs
        // on while a loaded machine works through the silo's turns (CI saw 93 s). The 180 s drive limit is the ceiling.
        Assert.InRange(silo.Time.GetUtcNow() - started, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(120));
        Assert.Equal(0, silo.Runtime.RunningCount);
        Assert.Equal(0, silo.Leases.RunningCount(nameof(Web)));
        Assert.Equal(["start", "stop:Failed:137", "error:PortTimeout"], silo.Hooks.Entries);
    }

    [Fact]
    public async Task Stop_StartWaitingForItsPort_EndsTheWaitAndStopsTheContainerAsRequested()
    {
        // A stopping berth dev host stops the containers it started through their objects; one whose start still waited
        // for its port held that stop for the rest of PortReadyTimeout (a 60 s setting: 59 s of stop), then was removed
        // as a failed start (counted toward a crash loop).
        await using var silo = await LifecycleSilo.StartAsync(o => o.PortReadyTimeout = TimeSpan.FromSeconds(90));
        silo.Runtime.PortDelay = null;
        var container = silo.Get("deaf");
        var waiting = container.EnsureReadyAsync(0);
        await silo.EventuallyAsync(() => Task.FromResult(silo.Runtime.RunningCount == 1), "the container to run and its start to wait for the port");

        // The fake clock stands still from here: a stop that waits for the port wait never ends, and the bound below says so.
        var stop = container.StopAsync();
        var first = await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(20)));

        Assert.True(first == stop, "The stop did not end within 20 s (real time, the fake clock standing still): it waited for the start's port wait instead of ending it.");
        await stop;
        var result = await waiting.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(ContainerReadyError.StartFailed, result.Error);
        Assert.Contains("stopped before it was ready", result.Message);
        Assert.Equal(0, silo.Runtime.RunningCount);
        Assert.Empty(silo.Runtime.Containers);
        Assert.Equal(0, silo.Leases.RunningCount(nameof(Web)));
        // Stopped as asked (SIGTERM, its hooks), not failed: no error hook, no failed start toward a crash loop.
        Assert.Equal(["start", "stop:Requested:143"], silo.Hooks.Entries);
        var status = await container.GetStateAsync();
        // The fake engine's SIGTERM exit code, as for any requested stop of a running container.
        Assert.Equal((ContainerObjectState.StoppedWithCode, 143), (status.State, status.ExitCode));
    }

    [Fact]
    public async Task NeverListens_FailedStartsFurtherApartThanTheWindow_InARowMakeACrashLoopNamingTheTimeout()
    {
        await using var silo = await LifecycleSilo.StartAsync(o =>
        {
            o.PortReadyTimeout = TimeSpan.FromSeconds(30);
            o.CrashLoopThreshold = 3;
            o.CrashLoopWindow = TimeSpan.FromSeconds(60);
            o.CrashLoopInitialBackoff = TimeSpan.FromMinutes(2);
            o.CrashLoopMaxBackoff = TimeSpan.FromMinutes(10);
        });
        silo.Runtime.PortDelay = null;
        var container = silo.Get("deaf");
        for (var i = 0; i < 3; i++)
        {
            // 30 s each plus 15 s between: never three within the 60 s window, so only "in a row" can make the loop.
            var failed = await silo.DriveAsync(container.EnsureReadyAsync(0), TimeSpan.FromMinutes(3), TimeSpan.FromMilliseconds(500));
            Assert.Equal(ContainerReadyError.PortTimeout, failed.Error);
            await silo.AdvanceAsync(TimeSpan.FromSeconds(15));
        }

        var loop = await container.EnsureReadyAsync(0);

        Assert.Equal(ContainerReadyError.CrashLoop, loop.Error);
        Assert.Contains("failed to start 3 times in a row", loop.Message);
        Assert.Contains("its last start failed", loop.Message);
        Assert.Contains("port", loop.Message);
        // The remaining backoff, which the gateway sends as Retry-After (it said 5 s whatever the backoff).
        Assert.InRange(loop.RetryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(2));
        Assert.True(loop.RetryAfter.Value > TimeSpan.FromSeconds(60), $"Retry-After {loop.RetryAfter} is not the 2-minute backoff's remainder.");
        Assert.Equal(3, silo.Runtime.CreatedCount);
    }

    [Fact]
    public async Task EngineCannotStartIt_ThreeTimes_CrashLoopInsteadOfACreatePerRequest()
    {
        await using var silo = await LifecycleSilo.StartAsync(o =>
        {
            o.CrashLoopThreshold = 3;
            o.CrashLoopInitialBackoff = TimeSpan.FromMinutes(1);
        });
        silo.Runtime.StartFailure = "OCI runtime create failed: exec: \"/nope\": no such file or directory";
        var container = silo.Get("bad-entrypoint");
        for (var i = 0; i < 3; i++)
        {
            var failed = await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);
            Assert.NotEqual(ContainerReadyError.CrashLoop, failed.Error);
            Assert.Contains("OCI runtime", failed.Message);
        }

        var loop = await container.EnsureReadyAsync(0);

        // Before, every request created (and removed) another container that the engine could not start.
        Assert.Equal(ContainerReadyError.CrashLoop, loop.Error);
        Assert.Contains("OCI runtime", loop.Message);
        Assert.Equal(3, silo.Runtime.CreatedCount);
    }

    [Fact]
    public async Task EnsureReady_CallerAbortsDuringColdStart_StartCompletesForTheObjectAndCapacityCountsWhatRuns()
    {
        await using var silo = await LifecycleSilo.StartAsync(maxInstances: 2);
        silo.Runtime.PortDelay = TimeSpan.FromSeconds(3);

        for (var i = 0; i < 2; i++)
        {
            using var abort = new CancellationTokenSource();
            var call = silo.Get($"aborted-{i}").EnsureReadyAsync(0, abort.Token);
            await Task.Delay(50);
            await abort.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        }

        await silo.EventuallyAsync(async () => (await silo.Get("aborted-0").GetStateAsync()).State == ContainerObjectState.Healthy &&
            (await silo.Get("aborted-1").GetStateAsync()).State == ContainerObjectState.Healthy, "abandoned starts complete", TimeSpan.FromMilliseconds(200));
        Assert.Equal(silo.Runtime.RunningCount, silo.Leases.RunningCount(nameof(Web)));

        // Both abandoned starts completed for their objects and then sleep normally; new IDs then start.
        silo.Time.Advance(TimeSpan.FromSeconds(11));
        await silo.EventuallyAsync(() => Task.FromResult(silo.Runtime.RunningCount == 0), "both sleep", TimeSpan.FromSeconds(1));
        Assert.Equal(0, silo.Leases.RunningCount(nameof(Web)));
        var fresh = await silo.DriveAsync(silo.Get("fresh").EnsureReadyAsync(0), Minute);
        Assert.Equal(ContainerReadyError.None, fresh.Error);
    }

    [Fact]
    public async Task EnsureReady_MaxInstancesReached_CapacityExceededUntilOneStops()
    {
        await using var silo = await LifecycleSilo.StartAsync(maxInstances: 1);
        var first = silo.Get("first");
        Assert.Equal(ContainerReadyError.None, (await silo.DriveAsync(first.EnsureReadyAsync(0), Minute)).Error);

        var refused = await silo.DriveAsync(silo.Get("second").EnsureReadyAsync(0), Minute);
        Assert.Equal(ContainerReadyError.CapacityExceeded, refused.Error);

        await silo.DriveAsync(first.StopAsync(), Minute);
        Assert.Equal(ContainerReadyError.None, (await silo.DriveAsync(silo.Get("second").EnsureReadyAsync(0), Minute)).Error);
        Assert.Equal(1, silo.Leases.RunningCount(nameof(Web)));
    }

    [Fact]
    public async Task Sleep_IdleWithoutRequests_StopsWithReasonSleepAfterExpiredHook()
    {
        await using var silo = await LifecycleSilo.StartAsync();
        var container = silo.Get("idle");
        await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);

        silo.Time.Advance(TimeSpan.FromSeconds(11));
        await silo.EventuallyAsync(async () => (await container.GetStateAsync()).State == ContainerObjectState.StoppedWithCode, "sleep");

        var state = await container.GetStateAsync();
        Assert.Equal("sleep", state.Reason);
        Assert.Equal(["start", "expired", "stop:Sleep:143"], silo.Hooks.Entries);
        Assert.Equal(0, silo.Runtime.RunningCount);
    }

    [Fact]
    public async Task Sleep_RequestInFlight_KeepsRunningUntilItEndsThenSleeps()
    {
        await using var silo = await LifecycleSilo.StartAsync();
        var container = silo.Get("busy");
        await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);
        var lease = silo.Leases.Find(nameof(Web), container.GetPrimaryKeyString())!;
        Assert.True(lease.TryEnter(out _));

        silo.Time.Advance(TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // the activity timer fires at least twice
        Assert.Equal(ContainerObjectState.Healthy, (await container.GetStateAsync()).State);

        lease.Exit();
        silo.Time.Advance(TimeSpan.FromSeconds(11));
        await silo.EventuallyAsync(async () => (await container.GetStateAsync()).State != ContainerObjectState.Healthy, "sleep after the request");
        Assert.Equal("sleep", (await container.GetStateAsync()).Reason);
    }

    [Theory]
    [InlineData(1, false, "exited", "stop:Exited:1")]
    [InlineData(137, true, "outofmemory", "stop:OutOfMemory:137")]
    public async Task Exit_ContainerCrashes_RecordedWithReasonAndNextRequestStartsFresh(int code, bool oom, string reason, string hook)
    {
        await using var silo = await LifecycleSilo.StartAsync();
        silo.Runtime.OutputOnStart = ["about to crash"];
        var container = silo.Get("crashy");
        var first = await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);

        silo.Runtime.Exit(first.Endpoint!.ContainerId, code, oom);
        await silo.EventuallyAsync(async () => (await container.GetStateAsync()).State == ContainerObjectState.StoppedWithCode, "exit recorded");

        var state = await container.GetStateAsync();
        Assert.Equal(reason, state.Reason);
        Assert.Equal(code, state.ExitCode);
        Assert.Equal(["about to crash"], state.LastOutput);
        Assert.Equal(["start", hook], silo.Hooks.Entries);
        Assert.Null(silo.Leases.Find(nameof(Web), container.GetPrimaryKeyString()));
        var second = await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);
        Assert.NotEqual(first.Endpoint.ContainerId, second.Endpoint!.ContainerId);
    }

    [Fact]
    public async Task Stop_Requested_ReasonRequestedHooksInOrder()
    {
        await using var silo = await LifecycleSilo.StartAsync(o => o.StopGracePeriod = TimeSpan.FromSeconds(60));
        var container = silo.Get("stopped");
        await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);

        await silo.DriveAsync(container.StopAsync(), Minute);

        Assert.Equal("requested", (await container.GetStateAsync()).Reason);
        Assert.Equal(TimeSpan.FromSeconds(60), Assert.Single(silo.Runtime.Stops).Options.GracePeriod);
        Assert.Equal(["start", "stop:Requested:143"], silo.Hooks.Entries);
        Assert.Equal(0, silo.Leases.RunningCount(nameof(Web)));
    }

    [Fact]
    public async Task ExitOnStart_EveryRequestNamesCodeAndOutput_ThenCrashLoopBacksOff()
    {
        await using var silo = await LifecycleSilo.StartAsync(o =>
        {
            o.CrashLoopThreshold = 3;
            o.CrashLoopInitialBackoff = TimeSpan.FromSeconds(5);
        });
        silo.Runtime.ExitOnStart = 3;
        silo.Runtime.OutputOnStart = ["config.ini: no such file"];
        var container = silo.Get("broken");

        for (var i = 0; i < 3; i++)
        {
            var failed = await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);
            Assert.Equal(ContainerReadyError.ExitedDuringStart, failed.Error);
            Assert.Contains("code 3", failed.Message);
            Assert.Contains("config.ini: no such file", failed.Message);
        }

        var state = await container.GetStateAsync();
        Assert.Equal(3, state.ExitCode);
        Assert.Equal(["config.ini: no such file"], state.LastOutput);

        var loop = await container.EnsureReadyAsync(0);
        Assert.Equal(ContainerReadyError.CrashLoop, loop.Error);
        Assert.Contains("code 3", loop.Message);
        Assert.Contains("config.ini: no such file", loop.Message);
        Assert.Equal(3, silo.Runtime.CreatedCount);

        silo.Time.Advance(TimeSpan.FromSeconds(6));
        var retried = await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);
        Assert.Equal(ContainerReadyError.ExitedDuringStart, retried.Error);
        Assert.Equal(4, silo.Runtime.CreatedCount);

        // The next backoff is longer (10 s): 6 s later it still answers crash_loop.
        silo.Time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(ContainerReadyError.CrashLoop, (await container.EnsureReadyAsync(0)).Error);
        Assert.Equal(0, silo.Leases.RunningCount(nameof(Web)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task ExitsAfterServing_ThreeInAWindow_MakeACrashLoopWhateverTheCode(int code)
    {
        await using var silo = await LifecycleSilo.StartAsync(o => o.CrashLoopThreshold = 3);
        var container = silo.Get("exits-on-its-own");
        for (var i = 0; i < 3; i++)
        {
            var ready = await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);
            Assert.Equal(ContainerReadyError.None, ready.Error);
            silo.Runtime.Exit(ready.Endpoint!.ContainerId, code, oomKilled: false);
            await silo.EventuallyAsync(async () => (await container.GetStateAsync()).State != ContainerObjectState.Healthy, "exit recorded");
        }

        var next = await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);

        // Exit 0 too: else a container that exits after each answer makes the engine start one per request.
        Assert.Equal(ContainerReadyError.CrashLoop, next.Error);
        Assert.Equal(3, silo.Runtime.CreatedCount);
    }

    [Fact]
    public async Task ExitsAfterServing_SlowerThanTheWindowAllows_NeverACrashLoop()
    {
        await using var silo = await LifecycleSilo.StartAsync(o => o.CrashLoopThreshold = 3);
        var container = silo.Get("exits-on-its-idle-timeout");
        for (var i = 0; i < 5; i++)
        {
            var ready = await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);
            Assert.Equal(ContainerReadyError.None, ready.Error);
            silo.Runtime.Exit(ready.Endpoint!.ContainerId, 0, oomKilled: false);
            await silo.EventuallyAsync(async () => (await container.GetStateAsync()).State != ContainerObjectState.Healthy, "exit recorded");
            // An app with its own 25 s idle timeout: fewer than three exits in any minute.
            silo.Time.Advance(TimeSpan.FromSeconds(31));
        }

        Assert.Equal(5, silo.Runtime.CreatedCount);
    }

    [Fact]
    public async Task CheckAlive_RefusedWhileEngineStillSaysRunning_RecordsExitClosesLeaseAndAnswersFalse()
    {
        await using var silo = await LifecycleSilo.StartAsync();
        var container = silo.Get("oom");
        var ready = await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);
        var id = ready.Endpoint!.ContainerId;
        Assert.True(await silo.Lifecycle(container).CheckAliveAsync(id));

        silo.Runtime.InspectLagsExit = true;
        silo.Runtime.Exit(id, 137, oomKilled: true);
        var alive = await silo.DriveAsync(silo.Lifecycle(container).CheckAliveAsync(id), Minute);

        Assert.False(alive);
        Assert.Null(silo.Leases.Find(nameof(Web), container.GetPrimaryKeyString()));
        var state = await container.GetStateAsync();
        Assert.Equal(ContainerObjectState.StoppedWithCode, state.State);
        Assert.Equal("outofmemory", state.Reason);
        silo.Runtime.InspectLagsExit = false;
        var next = await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);
        Assert.NotEqual(id, next.Endpoint!.ContainerId);
    }

    [Fact]
    public async Task CheckAlive_OldContainer_AnswersFalseWithoutTouchingTheCurrentOne()
    {
        await using var silo = await LifecycleSilo.StartAsync();
        var container = silo.Get("current");
        await silo.DriveAsync(container.EnsureReadyAsync(0), Minute);

        Assert.False(await silo.Lifecycle(container).CheckAliveAsync("0000deadbeef"));
        Assert.Equal(ContainerObjectState.Healthy, (await container.GetStateAsync()).State);
    }

    [Fact]
    public async Task Restart_ContainerLeftRunning_AdoptedNotRestarted()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var runtime = new FakeContainerRuntime(time);
        var directory = Path.Combine(Path.GetTempPath(), "berth-lifecycle-tests", Guid.NewGuid().ToString("N"));
        string id;
        await using (var first = await LifecycleSilo.StartAsync(runtime: runtime, time: time, dataDirectory: directory))
        {
            id = (await first.DriveAsync(first.Get("kept").EnsureReadyAsync(0), Minute)).Endpoint!.ContainerId;
        }

        try
        {
            await using var second = await LifecycleSilo.StartAsync(runtime: runtime, time: time, dataDirectory: directory);
            var again = await second.DriveAsync(second.Get("kept").EnsureReadyAsync(0), Minute);

            Assert.Equal(id, again.Endpoint!.ContainerId);
            Assert.Equal(1, runtime.CreatedCount);
            Assert.Equal(1, second.Leases.RunningCount(nameof(Web)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task EnsureReady_ClassSetsNoEgressRules_JoinsTheNetworkWithARouteOut()
    {
        // EnableInternet defaults to true (the seed's default): an unconfigured class is not cut off.
        await using var silo = await LifecycleSilo.StartAsync();

        var result = await silo.DriveAsync(silo.Get("open").EnsureReadyAsync(0), Minute);

        Assert.Equal(ContainerReadyError.None, result.Error);
        var spec = Assert.Single(silo.Runtime.Specs);
        Assert.Equal(BerthNames.Network(spec.Labels[BerthLabels.App], enableInternet: true), spec.Network);
        Assert.False(spec.Environment.ContainsKey("HTTP_PROXY"));
    }
}
