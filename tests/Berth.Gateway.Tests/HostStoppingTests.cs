using System.Net;
using System.Net.Http.Json;
using Berth.Containers;
using Berth.Objects;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Gateway.Tests;

/// <summary>
/// A request that waits for its container when the host begins to stop (ApplicationStopping: SIGTERM, a berth dev watch
/// restart): a real silo and Kestrel over the fake runtime, whose container never opens its port.
/// </summary>
public sealed class HostStoppingTests
{
    [Theory]
    [InlineData("/c/deaf/")] // an object's request, waiting on its start's port wait
    [InlineData("/p/")] // a pool's request, waiting in the hold queue while its first instance starts
    public async Task WaitingForPort_HostBeginsToStop_503HostStoppingWithRetryAfterAndTheStopCompletes(string path)
    {
        // Kestrel's graceful stop waits for every request in flight: one waiting out PortReadyTimeout (a 60 s setting
        // measured 59 s of stop) spent the host's shutdown budget on a start nobody would use.
        var runtime = new FakeContainerRuntime { PortDelay = null };
        using var directory = new TempDirectory();
        var app = await StartAsync(runtime, directory.Path);
        var stopping = Task.CompletedTask;
        try
        {
            using var client = new HttpClient { BaseAddress = Address(app), Timeout = TimeSpan.FromMinutes(5) };
            var send = client.GetAsync(path);
            await Eventually.ValueAsync(() => Task.FromResult(runtime.RunningCount), n => n == 1, "the container to run while the request waits for its port", TimeSpan.FromSeconds(30));
            Assert.False(send.IsCompleted, "The request was answered before the host began to stop; the port never opens, so it must still wait.");

            stopping = app.StopAsync();

            // Bounded only so that a regression fails with this message instead of hanging: the old code answered nothing
            // until the host's shutdown timeout (60 s here) cut the connection.
            var first = await Task.WhenAny(send, Task.Delay(TimeSpan.FromSeconds(20)));
            Assert.True(first == send, $"GET {path}: the waiting request was not answered within 20 s of ApplicationStopping: it still holds the host's graceful stop.");
            using var response = await send;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var error = await response.Content.ReadFromJsonAsync<GatewayError>();
            Assert.Equal(GatewayErrorCodes.HostStopping, error!.Error);
            Assert.Contains("began to stop", error.Message);
            Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);

            var stopped = await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(stopped == stopping, "The host's stop did not complete within 60 s once the waiting request was answered.");
            await stopping;
        }
        finally
        {
            if (stopping.IsCompleted)
            {
                await app.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task WaitingForPortWithItsBodyUnfinished_HostBeginsToStop_AnsweredWithConnectionCloseAndTheStopCompletes()
    {
        // The client still owes most of its body: the 503 alone left the connection open (Kestrel waits for the body of a
        // kept-alive connection), and the host's stop waited the whole shutdown timeout for it (hostile trial: 30 s).
        var runtime = new FakeContainerRuntime { PortDelay = null };
        using var directory = new TempDirectory();
        var app = await StartAsync(runtime, directory.Path);
        var stopping = Task.CompletedTask;
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Address(app).Port);
            var stream = client.GetStream();
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes("POST /c/slow-body/ HTTP/1.1\r\nHost: gateway\r\nContent-Length: 100000\r\n\r\n0123456789"));
            await Eventually.ValueAsync(() => Task.FromResult(runtime.RunningCount), n => n == 1, "the container to run while the request waits for its port", TimeSpan.FromSeconds(30));

            stopping = app.StopAsync();

            var answer = new System.Text.StringBuilder();
            var buffer = new byte[4096];
            using (var bound = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
            {
                try
                {
                    int read;
                    while ((read = await stream.ReadAsync(buffer, bound.Token)) > 0)
                    {
                        answer.Append(System.Text.Encoding.Latin1.GetString(buffer, 0, read));
                    }
                }
                catch (OperationCanceledException) when (bound.IsCancellationRequested)
                {
                    Assert.Fail($"The connection was still open 20 s after ApplicationStopping; it had answered: {answer}");
                }
                catch (IOException ex)
                {
                    // Cut after the whole answer was read: the gateway aborts a connection whose body never came.
                    Assert.True(answer.ToString().Contains(GatewayErrorCodes.HostStopping, StringComparison.Ordinal), $"The connection was cut ({ex.Message}) before the answer was read: '{answer}'");
                }
            }

            Assert.StartsWith("HTTP/1.1 503", answer.ToString(), StringComparison.Ordinal);
            Assert.Contains(GatewayErrorCodes.HostStopping, answer.ToString(), StringComparison.Ordinal);
            Assert.Contains("Connection: close", answer.ToString(), StringComparison.OrdinalIgnoreCase);
            var stopped = await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(20)));
            Assert.True(stopped == stopping, "The host's stop did not complete within 20 s of answering the only request (its shutdown timeout is 60 s).");
            await stopping;
        }
        finally
        {
            if (stopping.IsCompleted)
            {
                await app.DisposeAsync();
            }
        }
    }

    private static async Task<WebApplication> StartAsync(FakeContainerRuntime runtime, string dataDirectory)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IContainerRuntime>(runtime);
        builder.Services.AddSingleton<IContainerProbe>(new FakeContainerProbe(runtime));
        builder.Services.AddBerthContainers(o =>
        {
            o.AppName = "stopping";
            o.NodeId = "n1";
            // Far longer than the test: only the host's stop can end the wait.
            o.PortReadyTimeout = TimeSpan.FromMinutes(10);
            o.PollInterval = TimeSpan.FromMilliseconds(100);
        });
        builder.Services.AddContainer<Deaf>(o =>
        {
            o.Image = "berth/deaf:1";
            o.Pool.QueueTimeout = TimeSpan.FromMinutes(10);
        });
        builder.Services.AddBerthGateway();
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(BerthTestHost.FreePort(), BerthTestHost.FreePort())
            .AddDurableObjects(o => o.DataDirectory = dataDirectory));
        var app = builder.Build();
        app.MapContainer<Deaf>("/c/{id}/{**rest}", "id", stripPrefix: true);
        app.MapPool<Deaf>("/p/{**rest}", stripPrefix: true);
        await app.StartAsync();
        return app;
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>A container class whose app never listens (the fake runtime decides).</summary>
    public sealed class Deaf : Container
    {
        public Deaf() => DefaultPort = 8080;
    }
}
