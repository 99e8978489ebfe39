using System.Net;
using Berth.Containers;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway.Tests;

/// <summary>Issue 9's gateway cases against the real engine: what a client can and cannot do to a container.</summary>
[Collection(GatewayCollection.Name)]
public sealed class HardeningTests(GatewayFixture fixture)
{
    private Task<BerthTestHost> StartAsync() =>
        BerthTestHost.StartAsync(
            berth =>
            {
                berth.Services.AddSingleton<HookLog>();
                // The crash test kills its container on purpose five times in a row: not a crash loop to back off.
                berth.ConfigureContainers(o => o.CrashLoopThreshold = 100);
                berth.AddContainer<AppContainer>(o => o.Image = fixture.Images.App);
            },
            app => app.MapContainer<AppContainer>("/c/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true));

    [Fact]
    public async Task ClientSendsContainerPortHeader_ReachesDefaultPort_ContainerKept()
    {
        await using var host = await StartAsync();
        (await host.Client.GetAsync("/c/steer/")).EnsureSuccessStatusCode();
        var before = Assert.Single(await host.ContainersAsync());

        foreach (var port in new[] { "1", "9000" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/c/steer/headers");
            request.Headers.TryAddWithoutValidation(ContainerForwarder.TargetPortHeader, port);
            using var response = await host.Client.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain(ContainerForwarder.TargetPortHeader, await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }

        Assert.Equal(before.Id, Assert.Single(await host.ContainersAsync()).Id);
        Assert.Empty(host.Services.GetRequiredService<HookLog>().Stops);
    }

    [Fact]
    public async Task CrashThenImmediateGet_FiveTimes_EachFollowUpServedByNewContainer()
    {
        await using var host = await StartAsync();
        var objectId = host.Services.GetRequiredService<ContainerNamespace<AppContainer>>().IdFromName("crashy").ToString();
        (await host.Client.GetAsync("/c/crashy/")).EnsureSuccessStatusCode();
        var previous = Assert.Single(await host.ContainersAsync(objectId)).Id;

        for (var trial = 1; trial <= 5; trial++)
        {
            using var crash = await host.Client.GetAsync("/c/crashy/die");
            Assert.Equal(HttpStatusCode.BadGateway, crash.StatusCode);

            using var next = await host.Client.GetAsync("/c/crashy/");

            Assert.True(next.StatusCode == HttpStatusCode.OK, $"trial {trial}: {(int)next.StatusCode} {await next.Content.ReadAsStringAsync()}");
            var running = (await host.ContainersAsync(objectId)).Where(c => c.State == EngineContainerState.Running).ToList();
            var current = Assert.Single(running).Id;
            Assert.NotEqual(previous, current);
            previous = current;
        }
    }
}
