using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Berth.Containers;
using Berth.Objects;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Gateway.Tests;

/// <summary>
/// The gateway's data plane in this process without Docker or Orleans: the real <see cref="ContainerForwarder"/>
/// (YARP, the container HTTP client, Kestrel on loopback) in front of an in-process "container" app on loopback,
/// reached through a fake object that hands out its endpoint. Runs in well under a second per test.
/// </summary>
public sealed class ForwarderRig : IAsyncDisposable
{
    private readonly WebApplication _gateway;
    private readonly WebApplication _container;

    private ForwarderRig(WebApplication gateway, WebApplication container, FakeContainerObject obj, ContainerProbe probe)
    {
        _gateway = gateway;
        Forwarder = gateway.Services.GetRequiredService<ContainerForwarder>();
        _container = container;
        Object = obj;
        Probe = probe;
        var addresses = gateway.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
        Client = new HttpClient { BaseAddress = new Uri(addresses[0]), Timeout = TimeSpan.FromSeconds(30) };
        DuplexClient = new HttpClient
        {
            BaseAddress = new Uri(addresses[1]),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>An HTTP/2 client of the gateway: it streams a request body while it reads the response.</summary>
    public HttpClient DuplexClient { get; }

    public HttpClient Client { get; }

    public FakeContainerObject Object { get; }

    /// <summary>The gateway's forwarder (its HTTP/1.1 pool, when it has one, through <see cref="ContainerForwarder.Http1Forwarder"/>).</summary>
    public ContainerForwarder Forwarder { get; }

    /// <summary>What the container app saw.</summary>
    public ContainerProbe Probe { get; }

    /// <param name="options">Gateway options.</param>
    /// <param name="environment">The gateway's host environment.</param>
    /// <param name="containerPort">The port the fake object hands out instead of the in-process app's (a scripted <see cref="RawContainer"/>).</param>
    /// <param name="hop">
    /// The hop through other nodes' gateways; with it the object's container runs on node <c>other</c>, so every request
    /// goes to the gateway <paramref name="hop"/> names for that node.
    /// </param>
    public static async Task<ForwarderRig> StartAsync(Action<GatewayOptions>? options = null, string environment = "Development", int? containerPort = null, INodeHop? hop = null)
    {
        var probe = new ContainerProbe();
        var container = await StartContainerAppAsync(probe);
        var port = containerPort ?? new Uri(AddressOf(container)).Port;
        var obj = new FakeContainerObject(new ContainerEndpoint("live", "127.0.0.1", port, [port]) { NodeId = hop is null ? null : "other" });

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            // Cleartext HTTP/2 (prior knowledge): a client that sends and reads at once, as curl does.
            k.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
        });
        builder.Logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("BERTH_TEST_LOGS") == "1")
        {
            builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug);
        }

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ContainerLeaseRegistry>();
        builder.Services.AddSingleton<ContainerHttpClient>();
        if (hop is not null)
        {
            builder.Services.AddSingleton(hop);
        }

        builder.Services.AddBerthGateway(options);
        var gateway = builder.Build();
        var forwarder = gateway.Services.GetRequiredService<ContainerForwarder>();
        gateway.Map("/p/{**rest}", ctx =>
        {
            GatewayExtensions.StripPrefix(ctx.Request, "rest");
            return forwarder.ForwardAsync(ctx, "rig", "one", obj);
        });
        gateway.Map("/small/{**rest}", ctx =>
        {
            GatewayExtensions.StripPrefix(ctx.Request, "rest");
            return forwarder.ForwardAsync(ctx, "rig", "one", obj);
        }).WithMaxRequestBodySize(1000);
        gateway.Map("/class-limited/{**rest}", ctx =>
        {
            GatewayExtensions.StripPrefix(ctx.Request, "rest");
            return forwarder.ForwardAsync(ctx, "rig", "one", objectName: null, obj, port: null, classMaxRequestBodySize: 500);
        });
        gateway.Map("/class-and-route/{**rest}", ctx =>
        {
            GatewayExtensions.StripPrefix(ctx.Request, "rest");
            return forwarder.ForwardAsync(ctx, "rig", "one", objectName: null, obj, port: null, classMaxRequestBodySize: 500);
        }).WithMaxRequestBodySize(3000);
        gateway.Map("/switch/{port:int}/{**rest}", ctx =>
        {
            GatewayExtensions.StripPrefix(ctx.Request, "rest");
            ctx.Request.SwitchPort(int.Parse((string)ctx.Request.RouteValues["port"]!, System.Globalization.CultureInfo.InvariantCulture));
            return forwarder.ForwardAsync(ctx, "rig", "one", obj);
        });
        gateway.MapGet("/throws", () => ThrowingHandler());
        await gateway.StartAsync();
        return new ForwarderRig(gateway, container, obj, probe);
    }

    private static string ThrowingHandler() => throw new InvalidOperationException("secret detail from the app");

    /// <summary>An address on which nothing listens (connection refused).</summary>
    public static int DeadPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<WebApplication> StartContainerAppAsync(ContainerProbe probe)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = null;
        });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(async ctx =>
        {
            var raw = ctx.Features.Get<IHttpRequestFeature>()!.RawTarget;
            probe.Targets.Enqueue(raw);
            if (ctx.Request.Path.StartsWithSegments("/echo"))
            {
                // Echoes each chunk as it arrives, while still reading.
                ctx.Response.ContentType = "application/octet-stream";
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await ctx.Request.Body.ReadAsync(buffer, ctx.RequestAborted)) > 0)
                {
                    probe.AddReceived(read);
                    await ctx.Response.Body.WriteAsync(buffer.AsMemory(0, read), ctx.RequestAborted);
                    await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                }

                return;
            }

            if (ctx.Request.Path.StartsWithSegments("/sink"))
            {
                var buffer = new byte[64 * 1024];
                long total = 0;
                int read;
                while ((read = await ctx.Request.Body.ReadAsync(buffer, ctx.RequestAborted)) > 0)
                {
                    total += read;
                    probe.AddReceived(read);
                }

                await ctx.Response.WriteAsync(total.ToString(System.Globalization.CultureInfo.InvariantCulture), ctx.RequestAborted);
                return;
            }

            var text = new StringBuilder().Append(raw).Append('\n');
            foreach (var header in ctx.Request.Headers)
            {
                text.Append(header.Key).Append(": ").Append(header.Value.ToString()).Append('\n');
            }

            await ctx.Response.WriteAsync(text.ToString(), ctx.RequestAborted);
        });
        await app.StartAsync();
        return app;
    }

    private static string AddressOf(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        DuplexClient.Dispose();
        await _gateway.StopAsync();
        await _gateway.DisposeAsync();
        await _container.StopAsync();
        await _container.DisposeAsync();
    }
}

/// <summary>What the in-process container app saw.</summary>
public sealed class ContainerProbe
{
    private long _received;

    public ConcurrentQueue<string> Targets { get; } = new();

    public long Received => Interlocked.Read(ref _received);

    internal void AddReceived(int bytes) => Interlocked.Add(ref _received, bytes);
}

/// <summary>
/// A container object without Orleans: hands out its endpoint, and can be told to hand out a dead one first
/// (a container that died before the object noticed); the liveness check then reports it dead and a fresh one follows.
/// </summary>
public sealed class FakeContainerObject(ContainerEndpoint live) : IContainer, IContainerLifecycle
{
    private readonly ContainerEndpoint _live = live;
    private ContainerEndpoint _current = live;
    private int _ensureCalls;
    private int _checks;

    public int EnsureReadyCalls => Volatile.Read(ref _ensureCalls);

    public int AliveChecks => Volatile.Read(ref _checks);

    public ConcurrentQueue<int> RequestedPorts { get; } = new();

    /// <summary>The next start hands out a container that is already dead.</summary>
    public void DieBeforeNextRequest() => _current = new ContainerEndpoint("dead", "127.0.0.1", ForwarderRig.DeadPort(), []);

    /// <summary>The next start hands out a new container at the same address (the engine gave a stopped one's address to it).</summary>
    public void ReplaceAtTheSameAddress(string containerId) =>
        _current = new ContainerEndpoint(containerId, _live.Host, _live.DefaultPort, _live.Ports);

    /// <summary>When set, starting fails the way an unexpected fault would (an RPC timeout, a bug).</summary>
    public Exception? ThrowOnEnsure { get; set; }

    public Task<ContainerReadySlice> WaitReadySliceAsync(ContainerReadyRequest request, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _ensureCalls);
        RequestedPorts.Enqueue(request.Port);
        if (ThrowOnEnsure is { } fault)
        {
            return Task.FromException<ContainerReadySlice>(fault);
        }

        return Task.FromResult(new ContainerReadySlice(ContainerReadyResult.Ready(_current), 1));
    }

    public Task RenewRemoteActivityAsync(string node, int inFlight, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<bool> CheckAliveAsync(string containerId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _checks);
        if (containerId == "dead")
        {
            _current = _live;
            return Task.FromResult(false);
        }

        return Task.FromResult(true);
    }

    public Task OnContainerExitedAsync(string containerId, int exitCode, bool oomKilled, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task AdoptAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    Task<ContainerReplaceSlice> IContainerLifecycle.ReplaceSliceAsync(ContainerReplaceRequest request, long generation, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<ContainerStopSlice> StopSliceAsync(ContainerSignal signal, long generation, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task DestroyAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task SignalAsync(ContainerSignal signal, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<Guid> StartExecAsync(ContainerExecRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ContainerExecChunk> ReadExecAsync(Guid execId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task CancelExecAsync(Guid execId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ContainerStopInfo?> MonitorAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ContainerObjectStatus> GetStateAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<FetchResponse> ContainerFetchAsync(FetchRequest request, int? port = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<FetchResponse> FetchAsync(FetchRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
}
