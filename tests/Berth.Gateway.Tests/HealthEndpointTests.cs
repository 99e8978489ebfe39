using System.Net;
using System.Text.Json;
using Berth.Hosting;
using Microsoft.AspNetCore.Builder;

namespace Berth.Gateway.Tests;

/// <summary>The host's own liveness and readiness against the real engine and silo.</summary>
[Collection(GatewayCollection.Name)]
public sealed class HealthEndpointTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Health_RunningHost_SiloEngineAndImagesHealthy_AliveOnlyTheSilo()
    {
        await using var host = await BerthTestHost.StartAsync(
            berth => berth.AddContainer<AppContainer>(o => o.Image = fixture.Images.App),
            app =>
            {
                app.MapBerthHealth();
                app.MapContainer<AppContainer>("/health", _ => "not-the-host");
            });

        using var ready = await host.Client.GetAsync("/_berth/health");
        using var alive = await host.Client.GetAsync("/_berth/alive");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("application/json; charset=utf-8", ready.Content.Headers.ContentType!.ToString());
        using var readyBody = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", readyBody.RootElement.GetProperty("status").GetString());
        var checks = readyBody.RootElement.GetProperty("checks");
        Assert.Equal(["engine", "images", "silo"], checks.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.All(checks.EnumerateObject(), p => Assert.Equal("Healthy", p.Value.GetProperty("status").GetString()));

        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        using var aliveBody = JsonDocument.Parse(await alive.Content.ReadAsStringAsync());
        Assert.Equal(["silo"], aliveBody.RootElement.GetProperty("checks").EnumerateObject().Select(p => p.Name));
    }
}
