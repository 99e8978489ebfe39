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
            Assert.Equal(ContainerState.Healthy, state.State);
            Assert.Equal(containerId, state.ContainerId);
        }
        finally
        {
            await BerthTestHost.RemoveAppResourcesAsync(fixture.Runtime, appName);
            BerthTestHost.TryDelete(dataDirectory);
        }
    }
}
