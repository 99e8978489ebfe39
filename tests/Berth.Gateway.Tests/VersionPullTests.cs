using System.Net;
using Berth.Containers;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway.Tests;

/// <summary>
/// A recorded version runs by digest from the node's registry: when the engine no longer has that reference (a later build
/// removed the registry tag, as a rollback to an older version finds), the start pulls it by digest instead of failing.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class VersionPullTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Start_VersionImageGoneFromTheEngine_PulledByDigestAndServed()
    {
        var distribution = (IImageDistribution)fixture.Runtime;
        var repository = $"127.0.0.1:5000/berth-test-pull-{Guid.NewGuid().ToString("N")[..8]}";
        await distribution.TagImageAsync(fixture.Images.App, $"{repository}:v1");
        var digest = await distribution.PushImageAsync($"{repository}:v1");
        // The engine forgets the registry reference (the app's own tag stays): only a pull can bring back repository@digest.
        await fixture.Runtime.RemoveImageAsync($"{repository}:v1");
        Assert.Null(await fixture.Runtime.InspectImageAsync($"{repository}@{digest}"));

        var versions = new InMemoryClassVersionStore();
        await versions.RecordAsync(nameof(AppContainer), $"{repository}@{digest}", digest, "v1", "test");
        await versions.SetTrafficAsync(new ClassTraffic(nameof(AppContainer), 1, null, 0));
        await using var host = await BerthTestHost.StartAsync(
            berth =>
            {
                berth.Services.AddSingleton<HookLog>();
                berth.Services.AddSingleton<IClassVersionStore>(versions);
                berth.AddContainer<AppContainer>(o => o.Image = fixture.Images.App);
            },
            app => app.MapContainer<AppContainer>("/c/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true));
        try
        {
            using var response = await host.Client.GetAsync("/c/pulled/hello");

            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            var container = Assert.Single(await host.ContainersAsync());
            Assert.Equal($"{repository}@{digest}", container.Image);
        }
        finally
        {
            await BerthTestHost.RemoveAppResourcesAsync(fixture.Runtime, host.AppName);
            await fixture.Runtime.RemoveImageAsync($"{repository}@{digest}", force: true);
        }
    }
}
