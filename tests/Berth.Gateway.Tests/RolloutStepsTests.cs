using Berth.Containers;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway.Tests;

/// <summary>
/// Issue 13 on the real engine: a rollout goes step by step (<c>[10, 100]</c>: one of ten first), a rollback puts every instance
/// back on the old version, and a node restarted mid-rollout resumes it. The step is held by the active grace
/// (<see cref="ContainerClassOptions.RolloutActiveGracePeriod"/>): the first object's container is made well before the others,
/// so it is old enough for step 1 while the rest are still too young for step 2. The label <c>berth.version</c> of the
/// engine's containers tells which version each instance runs; a replaced container is drained and stopped, and the object's next
/// request starts it on the version its ID maps to.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class RolloutStepsTests(GatewayFixture fixture)
{
    /// <summary>Between the first object's container and the others': how long step 1 is done while step 2 waits on the active grace.</summary>
    private static readonly TimeSpan Gap = TimeSpan.FromSeconds(12);

    /// <summary>The active grace: longer than <see cref="Gap"/>, so the others are too young when the first is old enough.</summary>
    private static readonly TimeSpan ActiveGrace = TimeSpan.FromSeconds(16);

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private async Task<BerthTestHost> StartAsync(InMemoryClassVersionStore versions, TimeSpan activeGrace, string? appName = null, string? dataDirectory = null) =>
        await BerthTestHost.StartAsync(
            berth =>
            {
                berth.Services.AddSingleton<HookLog>();
                berth.Services.AddSingleton<IClassVersionStore>(versions);
                berth.AddContainer<AppContainer>(o =>
                {
                    o.Image = fixture.Images.App;
                    o.InstanceType = InstanceType.Lite;
                    o.RolloutStepPercentage = [10, 100];
                    o.RolloutActiveGracePeriod = activeGrace;
                    o.RolloutStopGracePeriod = TimeSpan.FromSeconds(5);
                });
            },
            app => app.MapContainer<AppContainer>("/c/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true),
            appName,
            dataDirectory);

    private async Task<InMemoryClassVersionStore> VersionsAsync()
    {
        var versions = new InMemoryClassVersionStore();
        await versions.RecordAsync(nameof(AppContainer), fixture.Images.App, null, "v1", "test");
        await versions.RecordAsync(nameof(AppContainer), fixture.Images.App, null, "v2", "test");
        await versions.SetTrafficAsync(new ClassTraffic(nameof(AppContainer), 1, null, 0));
        return versions;
    }

    private static async Task<IReadOnlyList<ContainerSummary>> RunningAsync(BerthTestHost host) =>
        (await host.ContainersAsync()).Where(c => c.State == EngineContainerState.Running).ToList();

    private static async Task WakeAsync(BerthTestHost host, IEnumerable<string> names) =>
        await Task.WhenAll(names.Select(async n => (await host.Client.GetAsync($"/c/{n}/")).EnsureSuccessStatusCode()));

    /// <summary>Wakes <c>first</c>, waits <see cref="Gap"/>, then wakes <paramref name="others"/>: all on v1.</summary>
    private static async Task<string> WakeStaggeredAsync(BerthTestHost host, string first, IReadOnlyList<string> others)
    {
        await WakeAsync(host, [first]);
        var firstContainer = Assert.Single(await RunningAsync(host));
        await Task.Delay(Gap);
        await WakeAsync(host, others);
        var running = await RunningAsync(host);
        Assert.Equal(others.Count + 1, running.Count);
        Assert.All(running, c => Assert.Equal("1", c.Labels[BerthLabels.Version]));
        return firstContainer.Labels[BerthLabels.ObjectId];
    }

    private static Task<RolloutStatus?> WaitForAsync(BerthTestHost host, Func<RolloutStatus, bool> condition, string what) =>
        Eventually.ValueAsync(() => host.Services.GetRequiredService<IRolloutCoordinator>().GetStatusAsync(nameof(AppContainer)),
            s => s is not null && condition(s), what, Bound);

    [Fact]
    public async Task Rollout_TenInstancesStepsTenAndHundred_OneReplacedFirstThenAllRunV2()
    {
        await using var host = await StartAsync(await VersionsAsync(), ActiveGrace);
        var others = Enumerable.Range(1, 9).Select(i => $"o{i}").ToList();
        var firstObject = await WakeStaggeredAsync(host, "o0", others);

        var started = await host.Services.GetRequiredService<IRolloutCoordinator>().StartAsync(new RolloutRequest(nameof(AppContainer), 2));
        Assert.Equal(10, started.Total);
        Assert.Equal([10, 100], started.Steps);

        // Step 1 (10 % of 10) done; step 2 waits until the nine others are old enough. A replaced container is drained and
        // stopped; the object's next request starts it on the new version.
        var held = await WaitForAsync(host, s => s.StepIndex == 1, "step 1 to be done");
        Assert.Equal(RolloutStates.Running, held!.State);
        Assert.Equal(1, held.Replaced);
        var during = await RunningAsync(host);
        Assert.Equal(9, during.Count);
        Assert.All(during, c => Assert.Equal("1", c.Labels[BerthLabels.Version]));
        Assert.DoesNotContain(during, c => c.Labels[BerthLabels.ObjectId] == firstObject);
        await WakeAsync(host, ["o0"]);
        during = await RunningAsync(host);
        var onV2 = Assert.Single(during, c => c.Labels[BerthLabels.Version] == "2");
        Assert.Equal(firstObject, onV2.Labels[BerthLabels.ObjectId]);
        Assert.Equal(9, during.Count(c => c.Labels[BerthLabels.Version] == "1"));
        var still = (await host.Services.GetRequiredService<IRolloutCoordinator>().GetStatusAsync(nameof(AppContainer)))!;
        Assert.Equal((1, 1, RolloutStates.Running), (still.StepIndex, still.Replaced, still.State));

        var done = await WaitForAsync(host, s => s.State != RolloutStates.Running, "the rollout to finish");
        Assert.Equal(RolloutStates.Completed, done!.State);
        Assert.Equal(10, done.Replaced);
        var stopped = await RunningAsync(host);
        Assert.All(stopped, c => Assert.Equal("2", c.Labels[BerthLabels.Version]));
        await WakeAsync(host, ["o0", .. others]);
        var after = await RunningAsync(host);
        Assert.Equal(10, after.Count);
        Assert.All(after, c => Assert.Equal("2", c.Labels[BerthLabels.Version]));
        Assert.Equal(10, after.Select(c => c.Labels[BerthLabels.ObjectId]).Distinct().Count());
    }

    [Fact]
    public async Task Rollback_AfterRolloutToV2_EveryInstanceRunsV1AndNextRequestAnswersV1()
    {
        await using var host = await StartAsync(await VersionsAsync(), TimeSpan.Zero);
        var names = Enumerable.Range(0, 4).Select(i => $"r{i}").ToList();
        await WakeAsync(host, names);
        var coordinator = host.Services.GetRequiredService<IRolloutCoordinator>();

        await coordinator.StartAsync(new RolloutRequest(nameof(AppContainer), 2));
        Assert.Equal(RolloutStates.Completed, (await WaitForAsync(host, s => s.ToVersion == 2 && s.State != RolloutStates.Running, "the rollout to v2 to finish"))!.State);
        Assert.Empty(await RunningAsync(host));
        await WakeAsync(host, names);
        var onV2 = await RunningAsync(host);
        Assert.Equal(4, onV2.Count);
        Assert.All(onV2, c => Assert.Equal("2", c.Labels[BerthLabels.Version]));

        var rollback = await coordinator.StartAsync(new RolloutRequest(nameof(AppContainer), 1, Trigger: "rollback"));
        Assert.Equal(2, rollback.FromVersion);
        Assert.Equal(4, rollback.Total);
        var done = await WaitForAsync(host, s => s.ToVersion == 1 && s.State != RolloutStates.Running, "the rollback to finish");
        Assert.Equal(RolloutStates.Completed, done!.State);
        Assert.Equal(4, done.Replaced);
        Assert.Empty(await RunningAsync(host));

        // The next request, to every known object and to a new one, is answered by a v1 container.
        await WakeAsync(host, [.. names, "fresh"]);
        var running = await RunningAsync(host);
        Assert.Equal(5, running.Count);
        Assert.All(running, c => Assert.Equal("1", c.Labels[BerthLabels.Version]));
    }

    [Fact]
    public async Task Rollout_NodeRestartedMidRollout_NewNodeResumesItAndNoContainerRunsAnOldVersion()
    {
        var appName = "t" + Guid.NewGuid().ToString("N")[..10];
        var dataDirectory = Path.Combine(Path.GetTempPath(), "berth-tests", appName);
        var versions = await VersionsAsync();
        try
        {
            RolloutStatus held;
            var first = await StartAsync(versions, ActiveGrace, appName, dataDirectory);
            {
                await WakeStaggeredAsync(first, "m0", ["m1", "m2"]);
                await first.Services.GetRequiredService<IRolloutCoordinator>().StartAsync(new RolloutRequest(nameof(AppContainer), 2));
                held = (await WaitForAsync(first, s => s.StepIndex == 1, "step 1 to be done"))!;
                Assert.Equal(RolloutStates.Running, held.State);
                Assert.Equal(1, held.Replaced);

                // The node goes away with step 2 waiting; its containers stay (as after a crash).
                await first.StopLeavingContainersAsync();
            }

            var left = await fixture.Runtime.ListAsync(BerthNames.ForApp(appName));
            Assert.Equal(2, left.Count(c => c.State == EngineContainerState.Running && c.Labels[BerthLabels.Version] == "1"));

            await using var second = await StartAsync(versions, ActiveGrace, appName, dataDirectory);
            var done = await WaitForAsync(second, s => s.State != RolloutStates.Running, "the resumed rollout to finish");
            Assert.Equal(RolloutStates.Completed, done!.State);
            // The same rollout, resumed (a start-up deploy would be a new one, from no version).
            Assert.Equal(held.StartedAt, done.StartedAt, TimeSpan.FromMilliseconds(1));
            Assert.Equal(1, done.FromVersion);
            Assert.Equal(3, done.Replaced);

            var current = (await versions.GetTrafficAsync(nameof(AppContainer)))!.Current;
            Assert.Equal(2, current);
            var currentLabel = current.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.All(await RunningAsync(second), c => Assert.Equal(currentLabel, c.Labels[BerthLabels.Version]));
            await WakeAsync(second, ["m0", "m1", "m2"]);
            var running = await RunningAsync(second);
            Assert.Equal(3, running.Count);
            Assert.All(running, c => Assert.Equal(currentLabel, c.Labels[BerthLabels.Version]));
        }
        finally
        {
            await BerthTestHost.RemoveAppResourcesAsync(fixture.Runtime, appName);
            BerthTestHost.TryDelete(dataDirectory);
        }
    }
}
