using Berth.Runtime;
using Berth.Testing;

namespace Berth.Docker.Tests;

public class LimitsAndLabelsTests(EngineFixture fixture) : EngineTest(fixture)
{
    public static TheoryData<string> InstanceTypes => ["lite", "basic", "standard-1", "standard-4"];

    [Theory]
    [MemberData(nameof(InstanceTypes))]
    public async Task Create_InstanceType_LimitsVisibleInInspect(string name)
    {
        var type = InstanceType.Parse(name);
        var id = await CreateAsync(Spec(Images.Base, "/bin/true") with { InstanceType = type, PidsLimit = 77 });

        var status = await Runtime.InspectAsync(id);

        Assert.Equal(type.MemoryBytes, status!.MemoryLimitBytes);
        // More vCPUs than the host has are capped at the host's count (the engine refuses more).
        Assert.Equal(Math.Min(type.NanoCpus, Environment.ProcessorCount * 1_000_000_000L), status.NanoCpus);
        Assert.Equal(77, status.PidsLimit);
    }

    [Fact]
    public async Task Create_CustomInstanceType_LimitsVisibleInInspect()
    {
        var type = InstanceType.Custom(1.5, 640, 3000);
        var id = await CreateAsync(Spec(Images.Base, "/bin/true") with { InstanceType = type });

        var status = await Runtime.InspectAsync(id);

        Assert.Equal(640L * 1024 * 1024, status!.MemoryLimitBytes);
        Assert.Equal(1_500_000_000L, status.NanoCpus);
    }

    [Fact]
    public async Task Create_ZeroPidsLimit_UsesTheDriverDefault()
    {
        var id = await CreateAsync(Spec(Images.Base, "/bin/true") with { PidsLimit = 0 });

        Assert.Equal(new DockerRuntimeOptions().DefaultPidsLimit, (await Runtime.InspectAsync(id))!.PidsLimit);
    }

    [Fact]
    public async Task Run_MemoryHogOnLite_IsOomKilledAndReportedAsSuch()
    {
        var id = await RunAsync(Spec(Images.MemoryHog) with { InstanceType = InstanceType.Lite });

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var exit = await Runtime.WaitForExitAsync(id, timeout.Token);

        Assert.True(exit.OomKilled, $"exit {exit}");
        Assert.Equal(137, exit.ExitCode);
        Assert.True((await Runtime.InspectAsync(id))!.OomKilled);
    }

    [Fact]
    public async Task Run_AppAllocatingPastItsLimit_IsOomKilled()
    {
        var id = await RunAsync(AppSpec() with { InstanceType = InstanceType.Lite });
        await ContainerWaits.WaitForLogAsync(Runtime, id, "listening on", Generous);
        var uri = await ContainerWaits.GetPublishedUriAsync(Runtime, id, TestImages.AppPort);
        try
        {
            await Http.GetStringAsync(new Uri(uri, "/alloc?mb=600"));
        }
        catch (HttpRequestException)
        {
            // Killed mid-request.
        }

        var exit = await WaitForExitAsync(id);

        Assert.True(exit.OomKilled, $"exit {exit}");
    }

    [Fact]
    public async Task Run_PidsLimit_StopsForkingPastIt()
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/sh", "-c",
            "i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done; echo spawned") with { PidsLimit = 10 });

        await WaitForExitAsync(id);

        Assert.Contains(await ReadLogsAsync(id), l => l.Text.Contains("fork", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task SupportsDiskLimits_ThisEngine_MatchesItsStorageDriverAndCreateStillWorks()
    {
        var supported = await Runtime.SupportsDiskLimitsAsync();

        var id = await CreateAsync(Spec(Images.Base, "/bin/true") with { InstanceType = InstanceType.Basic });
        Assert.NotNull(await Runtime.InspectAsync(id));
        // Second answer comes from the cached detection and must agree.
        Assert.Equal(supported, await Runtime.SupportsDiskLimitsAsync());
    }

    [Fact]
    public async Task List_ByLabelValueAndWildcard_FindsOnlyMatchingContainers()
    {
        var app = $"labels-{Guid.NewGuid():N}";
        Dictionary<string, string> Labels(string cls) => new() { [BerthLabels.App] = app, [BerthLabels.Class] = cls };
        var a = await CreateAsync(Spec(Images.Base, "/bin/true") with { Labels = TestResources.Labels(Labels("alpha")) });
        var b = await CreateAsync(Spec(Images.Base, "/bin/true") with { Labels = TestResources.Labels(Labels("beta")) });
        await CreateAsync(Spec(Images.Base, "/bin/true"));

        var alpha = await Runtime.ListAsync(new Dictionary<string, string> { [BerthLabels.App] = app, [BerthLabels.Class] = "alpha" });
        var any = await Runtime.ListAsync(new Dictionary<string, string> { [BerthLabels.App] = app, [BerthLabels.Class] = "*" });

        Assert.Equal([a], alpha.Select(c => c.Id));
        Assert.Equal(new[] { a, b }.Order(), any.Select(c => c.Id).Order());
        var summary = alpha.Single();
        Assert.Equal(EngineContainerState.Created, summary.State);
        Assert.Equal("alpha", summary.Labels[BerthLabels.Class]);
        Assert.Equal(Images.Base, summary.Image);
        Assert.InRange(summary.CreatedAt, DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task List_AfterSimulatedPlatformCrash_NewRuntimeFindsAndRemovesOrphans()
    {
        var app = $"orphans-{Guid.NewGuid():N}";
        var labels = TestResources.Labels(new Dictionary<string, string> { [BerthLabels.App] = app, [BerthLabels.ObjectId] = "obj" });
        var created = new List<string>();

        // The "platform" that crashes: its own runtime instance, dropped without cleaning up.
        using (var crashed = new DockerContainerRuntime(new DockerRuntimeOptions()))
        {
            for (var i = 0; i < 2; i++)
            {
                var id = await crashed.CreateAsync(Spec(Images.Base, "/bin/sleep", "600") with { Labels = labels });
                created.Add(id);
                await crashed.StartAsync(id);
            }
        }

        try
        {
            using var restarted = new DockerContainerRuntime(new DockerRuntimeOptions());
            var orphans = await restarted.ListAsync(new Dictionary<string, string> { [BerthLabels.App] = app });
            Assert.Equal(created.Order(), orphans.Select(o => o.Id).Order());
            Assert.All(orphans, o => Assert.Equal(EngineContainerState.Running, o.State));

            foreach (var orphan in orphans)
            {
                await restarted.RemoveAsync(orphan.Id);
            }

            Assert.Empty(await restarted.ListAsync(new Dictionary<string, string> { [BerthLabels.App] = app }));
        }
        finally
        {
            foreach (var id in created)
            {
                await Runtime.RemoveAsync(id);
            }
        }
    }
}
