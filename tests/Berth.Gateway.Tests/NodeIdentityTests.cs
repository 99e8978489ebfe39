using Berth.Containers;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Gateway.Tests;

/// <summary>Issue 9 case 11: two hosts of one app on one engine (other ports, other data directories).</summary>
[Collection(GatewayCollection.Name)]
public sealed class NodeIdentityTests(GatewayFixture fixture)
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
                Assert.All(after, c => Assert.Equal(ContainerRunState.Running, c.State));
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
