using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Berth.Containers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class ProxyTests(GatewayFixture fixture)
{
    private Task<BerthTestHost> StartAsync() =>
        BerthTestHost.StartAsync(
            berth =>
            {
                berth.Services.AddSingleton<HookLog>();
                berth.AddContainer<AppContainer>(o => o.Image = fixture.Images.App);
            },
            app =>
            {
                app.MapContainer<AppContainer>("/c/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true);
                app.MapGet("/headers-via-switch", (HttpContext ctx, ContainerNamespace<AppContainer> ns) =>
                {
                    ctx.Request.Path = "/headers";
                    return ns.GetByName("switch").FetchAsync(ctx.Request.SwitchPort(8080).HttpContext);
                });
            });

    [Fact]
    public async Task WebSocket_ThroughGateway_EchoesBothWaysAndKeepsCloseCode()
    {
        await using var host = await StartAsync();
        using var socket = new ClientWebSocket();
        var uri = new UriBuilder(host.BaseAddress) { Scheme = "ws", Path = "/c/ws/ws" }.Uri;

        await socket.ConnectAsync(uri, CancellationToken.None);
        var buffer = new byte[1024];
        foreach (var message in new[] { "hello", "über", new string('x', 500) })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, CancellationToken.None);
            var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal(WebSocketMessageType.Text, received.MessageType);
            Assert.Equal(message, Encoding.UTF8.GetString(buffer, 0, received.Count));
        }

        await socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        var binary = await socket.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Binary, binary.MessageType);
        Assert.Equal(new byte[] { 1, 2, 3 }, buffer[..binary.Count]);

        await socket.CloseOutputAsync((WebSocketCloseStatus)4001, "done here", CancellationToken.None);
        var close = await socket.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Close, close.MessageType);
        Assert.Equal((WebSocketCloseStatus)4001, socket.CloseStatus);
        Assert.Equal("done here", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task Headers_Forwarded_PreservedAndXForwardedAdded()
    {
        await using var host = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/c/hdr/headers");
        request.Headers.Add("X-Custom", "kept");
        request.Headers.Add("Cookie", "a=b");

        using var response = await host.Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(await response.Content.ReadAsStringAsync())!;
        var ci = new Dictionary<string, string>(headers, StringComparer.OrdinalIgnoreCase);

        Assert.Equal("kept", ci["X-Custom"]);
        Assert.Equal("a=b", ci["Cookie"]);
        Assert.Equal("127.0.0.1", ci["X-Forwarded-For"]);
        Assert.Equal("http", ci["X-Forwarded-Proto"]);
        Assert.Equal(host.BaseAddress.Authority, ci["X-Forwarded-Host"]);
        Assert.False(ci.ContainsKey(ContainerForwarder.TargetPortHeader));
    }

    [Fact]
    public async Task Bodies_Streamed_BothWays()
    {
        await using var host = await StartAsync();
        // Small enough that a client which sends its whole body before reading cannot deadlock against an echo.
        var payload = new byte[256 * 1024];
        Random.Shared.NextBytes(payload);

        using var echo = await host.Client.PostAsync("/c/stream/echo", new ByteArrayContent(payload));
        Assert.Equal(payload, await echo.Content.ReadAsByteArrayAsync());

        using var streamed = await host.Client.GetAsync("/c/stream/stream?chunks=4&ms=500", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await streamed.Content.ReadAsStreamAsync());
        var started = DateTime.UtcNow;
        Assert.Equal("chunk 0", await reader.ReadLineAsync());
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(1.2), "the first chunk waited for the whole response");
        Assert.Equal("chunk 3", (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
    }

    [Fact]
    public async Task Http2_FromClientOverTls_IsForwarded()
    {
        using var certificate = SelfSignedCertificate.Create();
        await using var host = await BerthTestHost.StartAsync(
            berth =>
            {
                berth.Services.AddSingleton<HookLog>();
                berth.AddContainer<AppContainer>(o => o.Image = fixture.Images.App);
            },
            app => app.MapContainer<AppContainer>("/c/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true),
            httpsCertificate: certificate);
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString() },
        }) { BaseAddress = host.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/c/h2/headers") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };

        using var response = await client.SendAsync(request);

        response.EnsureSuccessStatusCode();
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Contains("\"X-Forwarded-Proto\":\"https\"", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SwitchPort_RequestedPort_IsUsedAndHeaderRemoved()
    {
        await using var host = await StartAsync();

        using var response = await host.Client.GetAsync("/headers-via-switch");

        response.EnsureSuccessStatusCode();
        Assert.DoesNotContain(ContainerForwarder.TargetPortHeader, await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ContainerFetch_FromObject_ReachesContainer()
    {
        await using var host = await StartAsync();
        var container = host.Services.GetRequiredService<ContainerNamespace<AppContainer>>().GetByName("fetcher").Object;

        var response = await container.FetchAsync(new Berth.Objects.FetchRequest("POST", "/echo") { Body = "ping"u8.ToArray() });

        Assert.Equal(200, response.Status);
        Assert.Equal("ping", Encoding.UTF8.GetString(response.Body));
    }
}
