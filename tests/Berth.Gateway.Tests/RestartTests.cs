using Berth.Containers;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class RestartTests(GatewayFixture fixture)
{
    private Task<BerthTestHost> StartAsync(string appName, string dataDirectory) =>
        BerthTestHost.StartAsync(
            berth =>
            {
                berth.Services.AddSingleton<HookLog>();
                berth.AddContainer<AppContainer>(o => o.Image = fixture.Images.App);
            },
            app => app.MapContainer<AppContainer>("/c/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true),
            appName,
            dataDirectory);

    [Fact]
    public async Task Restart_ContainersLeftRunning_AreAdopted_OrphansRemoved_StorageKept()
    {
        var appName = "t" + Guid.NewGuid().ToString("N")[..10];
        var dataDirectory = Path.Combine(Path.GetTempPath(), "berth-tests", appName);
        try
        {
            string containerId;
            var first = await StartAsync(appName, dataDirectory);
            {
                (await first.Client.PostAsync("/c/keeper/state", new StringContent("in memory"))).EnsureSuccessStatusCode();
                containerId = Assert.Single(await first.ContainersAsync()).Id;

                // An orphan: a container with this app's labels that no object owns.
                var orphanObject = first.Services.GetRequiredService<ContainerNamespace<AppContainer>>().IdFromName("nobody").ToString();
                var node = first.Services.GetRequiredService<IOptions<ContainerOptions>>().Value.NodeId;
                var orphan = await first.Runtime.CreateAsync(new ContainerSpec
                {
                    Name = $"berth-{appName}-orphan",
                    Image = fixture.Images.App,
                    Labels = BerthNames.ForContainer(appName, node, nameof(AppContainer), orphanObject, fixture.Images.App, TestResources.Labels()),
                });
                await first.Runtime.StartAsync(orphan);
                await first.StopLeavingContainersAsync();
            }

            await using var second = await StartAsync(appName, dataDirectory);
            var remaining = await Eventually.ValueAsync(() => second.ContainersAsync(), c => c.Count == 1, "the orphan to be removed");

            Assert.Equal(containerId, remaining[0].Id);
            // Same container, so its in-memory state survived the platform's restart.
            Assert.Equal("in memory", await second.Client.GetStringAsync("/c/keeper/state"));
            var state = await second.Services.GetRequiredService<ContainerNamespace<AppContainer>>().GetByName("keeper").Object.GetStateAsync();
            Assert.Equal(ContainerObjectState.Healthy, state.State);
            Assert.Equal(containerId, state.ContainerId);
        }
        finally
        {
            await BerthTestHost.RemoveAppResourcesAsync(fixture.Runtime, appName);
            BerthTestHost.TryDelete(dataDirectory);
        }
    }

    /// <summary>Issue 9 case 11: two hosts of one app on one engine (other ports, other data directories).</summary>
    [Fact]
    public async Task TwoHostsOfOneApp_SameObjectAtOnceAndOneRestarts_NeitherLosesItsContainer()
    {
        var appName = "t" + Guid.NewGuid().ToString("N")[..10];
        var directoryA = Path.Combine(Path.GetTempPath(), "berth-tests", appName + "-a");
        var directoryB = Path.Combine(Path.GetTempPath(), "berth-tests", appName + "-b");
        try
        {
            await using var a = await StartAsync(appName, directoryA);
            var b = await StartAsync(appName, directoryB);
            try
            {
                var nodeA = a.Services.GetRequiredService<IOptions<ContainerOptions>>().Value.NodeId;
                var nodeB = b.Services.GetRequiredService<IOptions<ContainerOptions>>().Value.NodeId;
                Assert.NotEqual(nodeA, nodeB);

                (await a.Client.PostAsync("/c/shared/state", new StringContent("kept by a"))).EnsureSuccessStatusCode();
                (await b.Client.PostAsync("/c/shared/state", new StringContent("kept by b"))).EnsureSuccessStatusCode();

                var containers = await a.ContainersAsync();
                Assert.Equal(2, containers.Count);
                var containerA = Assert.Single(containers, c => c.Labels[BerthLabels.Node] == nodeA).Id;
                var containerB = Assert.Single(containers, c => c.Labels[BerthLabels.Node] == nodeB).Id;

                // B restarts (as after a crash) on its own data directory: it keeps its identity, adopts its own
                // container and leaves A's alone.
                await b.StopLeavingContainersAsync();
                b = await StartAsync(appName, directoryB);
                Assert.Equal(nodeB, b.Services.GetRequiredService<IOptions<ContainerOptions>>().Value.NodeId);

                Assert.Equal("kept by b", await b.Client.GetStringAsync("/c/shared/state"));
                Assert.Equal("kept by a", await a.Client.GetStringAsync("/c/shared/state"));
                var after = await a.ContainersAsync();
                Assert.Equal(new[] { containerA, containerB }.Order(StringComparer.Ordinal), after.Select(c => c.Id).Order(StringComparer.Ordinal));
                Assert.All(after, c => Assert.Equal(EngineContainerState.Running, c.State));
                Assert.Equal(containerB, (await b.Services.GetRequiredService<ContainerNamespace<AppContainer>>().GetByName("shared").Object.GetStateAsync()).ContainerId);
                Assert.Equal(containerA, (await a.Services.GetRequiredService<ContainerNamespace<AppContainer>>().GetByName("shared").Object.GetStateAsync()).ContainerId);
            }
            finally
            {
                await b.DisposeAsync();
            }
        }
        finally
        {
            await BerthTestHost.RemoveAppResourcesAsync(fixture.Runtime, appName);
            BerthTestHost.TryDelete(directoryA);
            BerthTestHost.TryDelete(directoryB);
        }
    }
}
