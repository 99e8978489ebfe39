using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Berth.Containers;
using Berth.Docker;
using Berth.Gateway;
using Berth.Hosting;
using Berth.Objects;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Bench.EndToEnd;

/// <summary>The benchmark's container class: the test app on 8080, counting its hooks.</summary>
public sealed class BenchApp : Container
{
    private static int _starts;
    private static int _stops;
    private static int _errors;

    public BenchApp()
    {
        DefaultPort = 8080;
        EnableInternet = InternetEnabled;
    }

    /// <summary>
    /// Puts the containers on the app's network with a route out (<c>berth-&lt;app&gt;</c>) instead of the internal one;
    /// the engine publishes ports on 127.0.0.1 only there (an internal network gets no port mapping at all).
    /// </summary>
    public static bool InternetEnabled { get; set; }

    public static int Starts => Volatile.Read(ref _starts);

    public static int Stops => Volatile.Read(ref _stops);

    public static int Errors => Volatile.Read(ref _errors);

    public static ConcurrentQueue<string> ErrorMessages { get; } = new();

    protected override Task OnStartAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _starts);
        return Task.CompletedTask;
    }

    protected override Task OnStopAsync(ContainerStopInfo stop, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _stops);
        return Task.CompletedTask;
    }

    protected override Task OnErrorAsync(Exception error, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _errors);
        if (ErrorMessages.Count < 50)
        {
            ErrorMessages.Enqueue(error.Message);
        }

        return Task.CompletedTask;
    }
}

/// <summary>Settings of the benchmark host's one container class.</summary>
internal sealed record ClassSettings(string Image, InstanceType InstanceType, int MaxInstances, TimeSpan? SleepAfter, TimeSpan StopGrace);

/// <summary>
/// A whole Berth app in this process, as the gateway tests start it: Orleans silo on free loopback ports,
/// Kestrel on 127.0.0.1, the real Docker engine, a unique app name and the test labels on everything it
/// creates. <see cref="DisposeAsync"/> stops it and removes its containers and networks.
/// </summary>
internal sealed class BenchHost : IAsyncDisposable
{
    public const string Route = "/c/{name}/{**path}";

    /// <summary>
    /// Environment of every benchmark container. An ASP.NET Core app watches its appsettings files with one
    /// inotify instance; containers run as the host's root (no user namespace), and the kernel allows 128
    /// inotify instances per user by default, so without this about 120 .NET containers fit on a host and the
    /// next ones crash at start (IOException: INotify instance user limit exceeded).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> AppEnvironment = new Dictionary<string, string>
    {
        ["DOTNET_hostBuilder__reloadConfigOnChange"] = "false",
    };

    private readonly WebApplication _app;
    private readonly string _dataDirectory;
    private int _disposed;

    private BenchHost(WebApplication app, string appName, string dataDirectory, TimingRuntime timing, ClassSettings settings)
    {
        _app = app;
        Settings = settings;
        AppName = appName;
        _dataDirectory = dataDirectory;
        Timing = timing;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);
        Client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = int.MaxValue })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(120),
        };
    }

    public string AppName { get; }

    /// <summary>Destination prefix of the <c>/yarp/</c> reference route (<c>http://ip:port/</c>).</summary>
    public static string? PlainYarpTarget { get; set; }

    public ClassSettings Settings { get; }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public TimingRuntime Timing { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The engine driver itself, without the timing wrapper.</summary>
    public DockerContainerRuntime Engine => Services.GetRequiredService<DockerContainerRuntime>();

    public ContainerNamespace<BenchApp> Containers => Services.GetRequiredService<ContainerNamespace<BenchApp>>();

    public ContainerLeaseRegistry Leases => Services.GetRequiredService<ContainerLeaseRegistry>();

    public string Network => BenchApp.InternetEnabled ? $"berth-{AppName}" : $"berth-{AppName}-internal";

    public static async Task<BenchHost> StartAsync(ClassSettings settings, CancellationToken cancellationToken)
    {
        var appName = "bench" + Guid.NewGuid().ToString("N")[..8];
        var dataDirectory = Path.Combine(Path.GetTempPath(), "berth-bench", appName);
        Directory.CreateDirectory(dataDirectory);

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = dataDirectory });
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1AndHttp2));
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(
            Environment.GetEnvironmentVariable("BERTH_BENCH_LOGS") == "1" ? LogLevel.Information : LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Configuration["Berth:Cluster:SiloPort"] = FreePort().ToString(CultureInfo.InvariantCulture);
        builder.Configuration["Berth:Cluster:GatewayPort"] = FreePort().ToString(CultureInfo.InvariantCulture);
        builder.Configuration["Berth:Objects:DataDirectory"] = dataDirectory;

        // Registered before AddBerth, so the driver's TryAdd keeps this one: the platform's engine calls get timed.
        TimingRuntime? timing = null;
        builder.Services.AddSingleton<IContainerRuntime>(sp => timing = new TimingRuntime(sp.GetRequiredService<DockerContainerRuntime>()));
        builder.AddBerth(berth =>
        {
            berth.ConfigureContainers(o =>
            {
                o.AppName = appName;
                o.StopGracePeriod = settings.StopGrace;
                foreach (var (key, value) in TestResources.Labels(new Dictionary<string, string> { ["berth.bench"] = "1" }))
                {
                    o.ExtraLabels[key] = value;
                }
            });
            berth.AddContainer<BenchApp>(o =>
            {
                o.Image = settings.Image;
                o.InstanceType = settings.InstanceType;
                o.MaxInstances = settings.MaxInstances;
                o.SleepAfter = settings.SleepAfter;
                foreach (var (key, value) in AppEnvironment)
                {
                    o.EnvVars[key] = value;
                }
            });
        });

        var app = builder.Build();
        app.MapContainer<BenchApp>(Route, ctx => (string)ctx.Request.RouteValues["name"]!, stripPrefix: true);

        // Reference point for the warm proxy: YARP's forwarder with the platform's own HTTP client and no Berth
        // logic (no name → ID, no object reference, no lease), to a fixed container address.
        var forwarder = app.Services.GetRequiredService<Yarp.ReverseProxy.Forwarder.IHttpForwarder>();
        var invoker = app.Services.GetRequiredService<ContainerHttpClient>().Invoker;
        var plainConfig = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(100) };
        app.Map("/yarp/{**path}", async ctx =>
        {
            ctx.Request.Path = "/" + (string?)ctx.Request.RouteValues["path"];
            await forwarder.SendAsync(ctx, PlainYarpTarget!, invoker, plainConfig, Yarp.ReverseProxy.Forwarder.HttpTransformer.Default);
        });
        await app.StartAsync(cancellationToken);
        _ = app.Services.GetRequiredService<IContainerRuntime>();
        var host = new BenchHost(app, appName, dataDirectory, timing!, settings);
        Cleanup.Register(host);
        return host;
    }

    /// <summary>This app's containers (any state).</summary>
    public Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(CancellationToken cancellationToken = default) =>
        Engine.ListAsync(new Dictionary<string, string> { [BerthLabels.App] = AppName }, cancellationToken);

    /// <summary>The labels a container the benchmark creates itself (not through an object) carries.</summary>
    public Dictionary<string, string> DirectLabels(string role)
    {
        var labels = new Dictionary<string, string>(TestResources.Labels(new Dictionary<string, string> { ["berth.bench"] = "1" }))
        {
            [BerthLabels.App] = AppName,
            [BerthLabels.Class] = role,
        };
        return labels;
    }

    /// <summary>The container name the platform gives an object's container.</summary>
    public string ContainerNameFor(string objectName) =>
        $"berth-{AppName}-{nameof(BenchApp)}-{Containers.IdFromName(objectName)}".ToLowerInvariant();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        var engine = Engine;
        try
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _app.StopAsync(stop.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
        }

        await RemoveAppResourcesAsync(engine, AppName);
        await _app.DisposeAsync();
        Client.Dispose();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

        Cleanup.Unregister(this);
    }

    /// <summary>Removes the app's containers (bounded concurrency), then its networks.</summary>
    public static async Task RemoveAppResourcesAsync(IContainerRuntime runtime, string appName)
    {
        var labels = new Dictionary<string, string> { [BerthLabels.App] = appName };
        var containers = await runtime.ListAsync(labels);
        await Parallel.ForEachAsync(containers, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (c, _) =>
        {
            try
            {
                await runtime.RemoveAsync(c.Id);
            }
            catch (ContainerRuntimeException ex)
            {
                Console.Error.WriteLine($"cleanup: could not remove {c.Name}: {ex.Message}");
            }
        });

        foreach (var network in await runtime.ListNetworksAsync(labels))
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await runtime.RemoveNetworkAsync(network.Id);
                    break;
                }
                catch (ContainerRuntimeException) when (attempt < 40)
                {
                    await Task.Delay(250);
                }
                catch (ContainerRuntimeException ex)
                {
                    Console.Error.WriteLine($"cleanup: could not remove network {network.Name}: {ex.Message}");
                    break;
                }
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Hosts and child processes to clean up on Ctrl+C or SIGTERM.</summary>
internal static class Cleanup
{
    private static readonly ConcurrentDictionary<BenchHost, byte> Hosts = new();
    private static readonly ConcurrentDictionary<int, Process> Processes = new();

    public static CancellationTokenSource Cancellation { get; } = new();

    public static void Register(BenchHost host) => Hosts[host] = 0;

    public static void Unregister(BenchHost host) => Hosts.TryRemove(host, out _);

    public static void Register(Process process) => Processes[process.Id] = process;

    public static void Unregister(Process process) => Processes.TryRemove(process.Id, out _);

    /// <summary>Kills the child processes this harness started (by their own ids).</summary>
    public static void KillChildren()
    {
        foreach (var (_, process) in Processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    public static async Task DisposeAllAsync()
    {
        KillChildren();
        foreach (var (host, _) in Hosts)
        {
            await host.DisposeAsync();
        }
    }
}
