using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Berth.Containers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway.Tests;

/// <summary>
/// Rollouts on the real engine through the gateway: a replaced instance's stream and WebSocket are not cut before the grace,
/// an instance that ignores SIGTERM is SIGKILLed at the grace, and the next request runs the new version (label berth.version).
/// Both versions run the test app's image; the label the object's container carries tells which version answered.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class RolloutTests(GatewayFixture fixture)
{
    private async Task<(BerthTestHost Host, InMemoryClassVersionStore Versions)> StartAsync(TimeSpan grace, bool ignoreSigterm = false)
    {
        var versions = new InMemoryClassVersionStore();
        await versions.RecordAsync(nameof(AppContainer), fixture.Images.App, null, "v1", "test");
        await versions.RecordAsync(nameof(AppContainer), fixture.Images.App, null, "v2", "test");
        await versions.SetTrafficAsync(new ClassTraffic(nameof(AppContainer), 1, null, 0));
        var host = await BerthTestHost.StartAsync(
            berth =>
            {
                berth.Services.AddSingleton<HookLog>();
                berth.Services.AddSingleton<IClassVersionStore>(versions);
                berth.AddContainer<AppContainer>(o =>
                {
                    o.Image = fixture.Images.App;
                    o.RolloutStopGracePeriod = grace;
                    if (ignoreSigterm)
                    {
                        o.EnvVars["IGNORE_SIGTERM"] = "1";
                    }
                });
            },
            app => app.MapContainer<AppContainer>("/c/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true));
        return (host, versions);
    }

    [Fact]
    public async Task Deploy_StreamAndWebSocketOnV1_NeitherCutBeforeTheGraceThenNextRequestRunsV2()
    {
        var (host, _) = await StartAsync(TimeSpan.FromSeconds(30));
        await using var _host = host;
        (await host.Client.GetAsync("/c/live/")).EnsureSuccessStatusCode();
        var v1 = Assert.Single(await host.ContainersAsync());
        Assert.Equal("1", v1.Labels[BerthLabels.Version]);

        // A streaming response of 40 chunks 100 ms apart (4 s) and an open WebSocket, both on the v1 instance.
        using var stream = await host.Client.GetAsync("/c/live/stream?chunks=40&ms=100", HttpCompletionOption.ResponseHeadersRead);
        stream.EnsureSuccessStatusCode();
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(host.BaseAddress) { Scheme = "ws", Path = "/c/live/ws" }.Uri, CancellationToken.None);
        Assert.Equal("before", await EchoAsync(socket, "before"));

        var rollout = await host.Services.GetRequiredService<IRolloutCoordinator>().StartAsync(new RolloutRequest(nameof(AppContainer), 2));
        Assert.Equal(1, rollout.Total);

        var body = await stream.Content.ReadAsStringAsync();
        Assert.Equal(40, body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal("chunk 39", body.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);

        // The WebSocket still works after the stream ended and the rollout is waiting on it.
        await Task.Delay(1000);
        Assert.Equal("during", await EchoAsync(socket, "during"));
        Assert.Empty(host.Services.GetRequiredService<HookLog>().Stops);
        Assert.Equal(RolloutStates.Running, (await host.Services.GetRequiredService<IRolloutCoordinator>().GetStatusAsync(nameof(AppContainer)))!.State);

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        var stop = await Eventually.ValueAsync(() => Task.FromResult(host.Services.GetRequiredService<HookLog>().Stops.LastOrDefault()), s => s is not null,
            "the v1 instance to be replaced once the WebSocket closed", TimeSpan.FromSeconds(20));
        Assert.Equal(StopReason.Replaced, stop!.Reason);
        Assert.Equal(v1.Id, stop.ContainerId);
        await Eventually.ValueAsync(() => host.Services.GetRequiredService<IRolloutCoordinator>().GetStatusAsync(nameof(AppContainer)),
            s => s!.State == RolloutStates.Completed, "the rollout to complete", TimeSpan.FromSeconds(20));

        (await host.Client.GetAsync("/c/live/")).EnsureSuccessStatusCode();
        var v2 = Assert.Single(await host.ContainersAsync(), c => c.State == Berth.Runtime.EngineContainerState.Running);
        Assert.NotEqual(v1.Id, v2.Id);
        Assert.Equal("2", v2.Labels[BerthLabels.Version]);
    }

    [Fact]
    public async Task Deploy_InstanceIgnoresSigterm_KilledAtTheGrace()
    {
        var grace = TimeSpan.FromSeconds(3);
        var (host, _) = await StartAsync(grace, ignoreSigterm: true);
        await using var _host = host;
        (await host.Client.GetAsync("/c/stubborn/")).EnsureSuccessStatusCode();

        var watch = Stopwatch.StartNew();
        await host.Services.GetRequiredService<IRolloutCoordinator>().StartAsync(new RolloutRequest(nameof(AppContainer), 2));
        var stop = await Eventually.ValueAsync(() => Task.FromResult(host.Services.GetRequiredService<HookLog>().Stops.LastOrDefault()), s => s is not null,
            "the instance to be killed", TimeSpan.FromSeconds(30));
        watch.Stop();

        Assert.Equal(StopReason.Replaced, stop!.Reason);
        Assert.Equal(137, stop.ExitCode);
        Assert.True(watch.Elapsed >= grace * 0.9, $"killed after {watch.Elapsed.TotalMilliseconds:0} ms, before the {grace.TotalSeconds} s grace");
        (await host.Client.GetAsync("/c/stubborn/")).EnsureSuccessStatusCode();
        Assert.Equal("2", Assert.Single(await host.ContainersAsync(), c => c.State == Berth.Runtime.EngineContainerState.Running).Labels[BerthLabels.Version]);
    }

    private static async Task<string> EchoAsync(ClientWebSocket socket, string message)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }
}
