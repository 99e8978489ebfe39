using System.Net;
using Berth.Containers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway.Tests;

/// <summary>
/// A class with <c>runtime: "runsc"</c> through the whole platform (issue 12 item 3): start on the first request, serve,
/// sleep after its idle time, wake on the next request; every container it gets runs on gVisor.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class GvisorTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Runtime_Runsc_StartsServesSleepsAndWakesOnGvisor()
    {
        await Gvisor.EnsureRegisteredAsync();
        await using var host = await BerthTestHost.StartAsync(
            berth => berth.AddContainer<IsolatedWeb>(o =>
            {
                o.Image = fixture.Images.App;
                o.Runtime = Gvisor.Runtime;
                o.SleepAfter = TimeSpan.FromSeconds(1);
            }),
            app => app.MapContainer<IsolatedWeb>("/g/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true));
        var stub = host.Services.GetRequiredService<ContainerNamespace<IsolatedWeb>>().GetByName("sandbox");

        using (var first = await host.Client.GetAsync("/g/sandbox/hello"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("hello\n", await first.Content.ReadAsStringAsync());
        }

        var started = Assert.Single(await host.ContainersAsync());
        Assert.Equal(Gvisor.Runtime, (await host.Runtime.InspectAsync(started.Id))!.Runtime);

        await Eventually.ValueAsync(() => stub.Object.GetStateAsync(), s => s.State == ContainerObjectState.Stopped, "the runsc container to sleep");
        Assert.Empty(await host.ContainersAsync());

        using (var woken = await host.Client.GetAsync("/g/sandbox/hello"))
        {
            Assert.Equal(HttpStatusCode.OK, woken.StatusCode);
        }

        var second = Assert.Single(await host.ContainersAsync());
        Assert.NotEqual(started.Id, second.Id);
        Assert.Equal(Gvisor.Runtime, (await host.Runtime.InspectAsync(second.Id))!.Runtime);
    }
}
