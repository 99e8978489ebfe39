using System.Collections.Concurrent;
using System.Diagnostics;
using Berth.Containers;
using Berth.Docker;
using Berth.Gateway;
using Berth.Hosting;
using Berth.Objects;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

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
internal sealed record ClassSettings(string Image, InstanceType InstanceType, int MaxInstances, TimeSpan? SleepAfter, TimeSpan StopGrace, int PrewarmedInstances = 0);

/// <summary>
/// The benchmark's app: one <see cref="BerthTestHost"/> (the same in-process host the functional tests use) with
/// <see cref="BenchApp"/> mapped at <see cref="Route"/>, every engine call timed, and a plain-YARP reference route.
/// <see cref="DisposeAsync"/> stops it and removes its containers and networks.
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

    private static readonly IReadOnlyDictionary<string, string> BenchLabel = new Dictionary<string, string> { ["berth.bench"] = "1" };

    private readonly BerthTestHost _host;

    private BenchHost(BerthTestHost host, TimingRuntime timing, ClassSettings settings)
    {
        _host = host;
        Settings = settings;
        Timing = timing;
    }

    public string AppName => _host.AppName;

    /// <summary>Destination prefix of the <c>/yarp/</c> reference route (<c>http://ip:port/</c>).</summary>
    public static string? PlainYarpTarget { get; set; }

    public ClassSettings Settings { get; }

    public Uri BaseAddress => _host.BaseAddress;

    public HttpClient Client => _host.Client;

    public TimingRuntime Timing { get; }

    public IServiceProvider Services => _host.Services;

    /// <summary>The engine driver itself, without the timing wrapper.</summary>
    public DockerContainerRuntime Engine => Services.GetRequiredService<DockerContainerRuntime>();

    public ContainerNamespace<BenchApp> Containers => Services.GetRequiredService<ContainerNamespace<BenchApp>>();

    public ContainerLeaseRegistry Leases => Services.GetRequiredService<ContainerLeaseRegistry>();

    public string Network => BerthNames.Network(AppName, BenchApp.InternetEnabled);

    public static async Task<BenchHost> StartAsync(ClassSettings settings, CancellationToken cancellationToken, IClassVersionStore? versions = null,
        Action<WebApplicationBuilder>? configureHost = null, Action<WebApplication>? map = null)
    {
        TimingRuntime? timing = null;
        var options = new BerthTestHostOptions
        {
            AppName = "bench" + Guid.NewGuid().ToString("N")[..8],
            DataDirectory = null,
            EnvironmentName = "Production",
            LogsVariable = "BERTH_BENCH_LOGS",
            PortReadyTimeout = null,
            StopGracePeriod = settings.StopGrace,
            ClientTimeout = TimeSpan.FromSeconds(120),
            ClientHandler = () => new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = int.MaxValue },
            // Registered before AddBerth, so the driver's TryAdd keeps this one: the platform's engine calls get timed.
            ConfigureHost = builder =>
            {
                builder.Services.AddSingleton<IContainerRuntime>(sp => timing = new TimingRuntime(sp.GetRequiredService<DockerContainerRuntime>()));
                ConfigureTransportFromEnvironment(builder);
                configureHost?.Invoke(builder);
            },
        };
        foreach (var (key, value) in BenchLabel)
        {
            options.ExtraLabels[key] = value;
        }

        var host = await BerthTestHost.StartAsync(
            options,
            berth =>
            {
                if (versions is not null)
                {
                    berth.Services.AddSingleton(versions);
                }

                berth.AddContainer<BenchApp>(o =>
                {
                    o.Image = settings.Image;
                    o.InstanceType = settings.InstanceType;
                    o.MaxInstances = settings.MaxInstances;
                    o.SleepAfter = settings.SleepAfter;
                    o.PrewarmedInstances = settings.PrewarmedInstances;
                    // The warm scenario compares the gateway with Docker's published-port proxy, so this class asks for it.
                    o.PublishPorts = true;
                    foreach (var (key, value) in AppEnvironment)
                    {
                        o.EnvVars[key] = value;
                    }
                });
            },
            app =>
            {
                app.MapContainer<BenchApp>(Route, ctx => (string)ctx.Request.RouteValues["name"]!, stripPrefix: true);
                map?.Invoke(app);

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
            },
            cancellationToken);
        _ = host.Runtime;
        var bench = new BenchHost(host, timing!, settings);
        Cleanup.Register(bench);
        return bench;
    }

    /// <summary>
    /// Kestrel socket-transport settings a benchmark series varies without a rebuild (bench/warm-series.sh):
    /// <c>BERTH_BENCH_WAIT_FOR_DATA</c> (<c>true</c>/<c>false</c>: <c>WaitForDataBeforeAllocatingBuffer</c>, Kestrel's default
    /// <c>true</c>) and <c>BERTH_BENCH_IO_QUEUES</c> (<c>IOQueueCount</c>, Kestrel's default min(cores, 16); 0 = straight to the thread pool).
    /// </summary>
    private static void ConfigureTransportFromEnvironment(WebApplicationBuilder builder)
    {
        var waitForData = Environment.GetEnvironmentVariable("BERTH_BENCH_WAIT_FOR_DATA");
        var ioQueues = Environment.GetEnvironmentVariable("BERTH_BENCH_IO_QUEUES");
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(transport =>
        {
            if (bool.TryParse(waitForData, out var wait))
            {
                transport.WaitForDataBeforeAllocatingBuffer = wait;
            }

            if (int.TryParse(ioQueues, System.Globalization.CultureInfo.InvariantCulture, out var queues))
            {
                transport.IOQueueCount = queues;
            }
        });
    }

    /// <summary>This app's containers (any state).</summary>
    public Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(CancellationToken cancellationToken = default) =>
        _host.ContainersAsync(cancellationToken: cancellationToken);

    /// <summary>The labels a container the benchmark creates itself (not through an object) carries.</summary>
    public Dictionary<string, string> DirectLabels(string role) =>
        new(TestResources.Labels(BerthNames.ForClass(AppName, role).Concat(BenchLabel).ToDictionary()));

    /// <summary>The container name the platform gives an object's container.</summary>
    public string ContainerNameFor(string objectName) =>
        _host.ContainerNameFor(nameof(BenchApp), Containers.IdFromName(objectName).ToString());

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        Cleanup.Unregister(this);
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
