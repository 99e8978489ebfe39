using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Berth.Containers;
using Berth.Hosting;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Testing;

/// <summary>How <see cref="BerthTestHost"/> starts a host; every property has a default that suits functional tests.</summary>
public sealed class BerthTestHostOptions
{
    /// <summary>The app name, unique per host so concurrent hosts on one engine stay apart.</summary>
    /// <value>Default: <see langword="null"/>, a fresh <c>t</c> + 10 hex digits.</value>
    public string? AppName { get; set; }

    /// <summary>The node's data directory (objects, node ID, admin token); also the content root.</summary>
    /// <value>Default: <see langword="null"/>, a fresh directory under the temp directory, deleted on dispose.</value>
    public string? DataDirectory { get; set; }

    /// <summary>The ASP.NET Core environment name.</summary>
    /// <value>Default: <c>Test</c>.</value>
    public string EnvironmentName { get; set; } = "Test";

    /// <summary>Labels on every container and network besides <see cref="TestResources.Labels"/>.</summary>
    /// <value>Default: none.</value>
    public IDictionary<string, string> ExtraLabels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The containers' <see cref="ContainerOptions.PortReadyTimeout"/>; <see langword="null"/> keeps the platform's.</summary>
    /// <value>Default: 15 seconds.</value>
    public TimeSpan? PortReadyTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The containers' <see cref="ContainerOptions.StopGracePeriod"/>; <see langword="null"/> keeps the platform's.</summary>
    /// <value>Default: 2 seconds, so tests do not wait for slow shutdowns.</value>
    public TimeSpan? StopGracePeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Changes the builder before <c>AddBerth</c> (services registered here win over the platform's TryAdd ones).</summary>
    public Action<WebApplicationBuilder>? ConfigureHost { get; set; }

    /// <summary>Serves HTTPS with this certificate instead of plain HTTP.</summary>
    public X509Certificate2? HttpsCertificate { get; set; }

    /// <summary>Environment variable that, set to <c>1</c>, shows Information logs (Warning and up otherwise).</summary>
    /// <value>Default: <c>BERTH_TEST_LOGS</c>.</value>
    public string LogsVariable { get; set; } = "BERTH_TEST_LOGS";

    /// <summary>Timeout of <see cref="BerthTestHost.Client"/>.</summary>
    /// <value>Default: 60 seconds.</value>
    public TimeSpan ClientTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Creates the handler of <see cref="BerthTestHost.Client"/>; <see langword="null"/> for the default handler.</summary>
    public Func<HttpMessageHandler>? ClientHandler { get; set; }

    /// <summary>Clock of the cleanup's retries.</summary>
    /// <value>Default: <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}

/// <summary>
/// A whole Berth app in this process, for functional tests and benchmarks: Orleans silo on free loopback ports,
/// Kestrel on 127.0.0.1, the real Docker engine. Every container and network it makes carries the test labels
/// and a unique app name; disposing removes them.
/// </summary>
public sealed class BerthTestHost : IAsyncDisposable
{
    /// <summary>How long stopping the host may take before it is abandoned: 30 seconds.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly WebApplication _app;
    private readonly bool _ownsDataDirectory;
    private readonly TimeProvider _time;
    private int _disposed;

    private BerthTestHost(WebApplication app, string appName, string dataDirectory, bool ownsDataDirectory, BerthTestHostOptions options)
    {
        _app = app;
        _time = options.TimeProvider;
        AppName = appName;
        DataDirectory = dataDirectory;
        _ownsDataDirectory = ownsDataDirectory;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Client = new HttpClient(options.ClientHandler?.Invoke() ?? new HttpClientHandler()) { BaseAddress = new Uri(address), Timeout = options.ClientTimeout };
    }

    /// <summary>The app name (<see cref="BerthLabels.App"/> on everything the host creates).</summary>
    public string AppName { get; }

    /// <summary>The node's data directory.</summary>
    public string DataDirectory { get; }

    /// <summary>The node's identity (<see cref="ContainerOptions.NodeId"/>), kept in <see cref="DataDirectory"/>.</summary>
    public string NodeId => Services.GetRequiredService<IOptions<ContainerOptions>>().Value.NodeId;

    /// <summary>A client for the host's listener.</summary>
    public HttpClient Client { get; }

    /// <summary>The host's address, such as <c>http://127.0.0.1:41234</c>.</summary>
    public Uri BaseAddress => Client.BaseAddress!;

    /// <summary>The host's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The container runtime the platform uses.</summary>
    public IContainerRuntime Runtime => Services.GetRequiredService<IContainerRuntime>();

    /// <summary>Starts a host with the test defaults and the given app name and data directory.</summary>
    /// <param name="configure">Registers the app's containers and objects.</param>
    /// <param name="map">Maps the app's routes.</param>
    /// <param name="appName">See <see cref="BerthTestHostOptions.AppName"/>.</param>
    /// <param name="dataDirectory">See <see cref="BerthTestHostOptions.DataDirectory"/>.</param>
    /// <param name="configureHost">See <see cref="BerthTestHostOptions.ConfigureHost"/>.</param>
    /// <param name="httpsCertificate">See <see cref="BerthTestHostOptions.HttpsCertificate"/>.</param>
    public static Task<BerthTestHost> StartAsync(
        Action<BerthBuilder> configure,
        Action<WebApplication> map,
        string? appName = null,
        string? dataDirectory = null,
        Action<WebApplicationBuilder>? configureHost = null,
        X509Certificate2? httpsCertificate = null) =>
        StartAsync(
            new BerthTestHostOptions { AppName = appName, DataDirectory = dataDirectory, ConfigureHost = configureHost, HttpsCertificate = httpsCertificate },
            configure,
            map,
            CancellationToken.None);

    /// <summary>Starts a host.</summary>
    /// <param name="options">How to start it.</param>
    /// <param name="configure">Registers the app's containers and objects.</param>
    /// <param name="map">Maps the app's routes.</param>
    /// <param name="cancellationToken">Abandons the start.</param>
    public static async Task<BerthTestHost> StartAsync(
        BerthTestHostOptions options, Action<BerthBuilder> configure, Action<WebApplication> map, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var appName = options.AppName ?? "t" + Guid.NewGuid().ToString("N")[..10];
        var ownsDataDirectory = options.DataDirectory is null;
        var dataDirectory = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), "berth-tests", appName);
        Directory.CreateDirectory(dataDirectory);

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = options.EnvironmentName, ContentRootPath = dataDirectory });
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            if (options.HttpsCertificate is { } certificate)
            {
                listen.UseHttps(certificate);
            }
        }));
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true)
            .SetMinimumLevel(Environment.GetEnvironmentVariable(options.LogsVariable) == "1" ? LogLevel.Information : LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Configuration["Berth:Cluster:SiloPort"] = FreePort().ToString(CultureInfo.InvariantCulture);
        builder.Configuration["Berth:Cluster:GatewayPort"] = FreePort().ToString(CultureInfo.InvariantCulture);
        builder.Configuration["Berth:Objects:DataDirectory"] = dataDirectory;
        options.ConfigureHost?.Invoke(builder);
        builder.AddBerth(berth =>
        {
            berth.ConfigureContainers(o =>
            {
                o.AppName = appName;
                o.PortReadyTimeout = options.PortReadyTimeout ?? o.PortReadyTimeout;
                o.StopGracePeriod = options.StopGracePeriod ?? o.StopGracePeriod;
                foreach (var (key, value) in TestResources.Labels(options.ExtraLabels.AsReadOnly()))
                {
                    o.ExtraLabels[key] = value;
                }
            });
            configure(berth);
        });

        var app = builder.Build();
        map(app);
        await app.StartAsync(cancellationToken);
        return new BerthTestHost(app, appName, dataDirectory, ownsDataDirectory, options);
    }

    /// <summary>Containers of this app (of every node), running or not; of one object when <paramref name="objectId"/> is set.</summary>
    /// <param name="objectId">A durable object ID, or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">Abandons the call.</param>
    public Task<IReadOnlyList<ContainerSummary>> ContainersAsync(string? objectId = null, CancellationToken cancellationToken = default)
    {
        var labels = BerthNames.ForApp(AppName);
        if (objectId is not null)
        {
            labels[BerthLabels.ObjectId] = objectId;
        }

        return Runtime.ListAsync(labels, cancellationToken);
    }

    /// <summary>The name the platform gives the container of <paramref name="objectId"/> of class <paramref name="className"/> on this node.</summary>
    /// <param name="className">The container class.</param>
    /// <param name="objectId">The durable object ID.</param>
    public string ContainerNameFor(string className, string objectId) => BerthNames.Container(AppName, NodeId, className, objectId);

    /// <summary>Stops the host and leaves its containers running, as a crash would.</summary>
    public async Task StopLeavingContainersAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
        Client.Dispose();
    }

    /// <summary>Stops the host, removes the app's containers and networks and, when the host made it, its data directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        var runtime = Runtime;
        await StopAsync();
        await RemoveAppResourcesAsync(runtime, AppName, _time);
        await _app.DisposeAsync();
        Client.Dispose();
        if (_ownsDataDirectory)
        {
            TempDirectory.TryDelete(DataDirectory);
        }
    }

    /// <summary>
    /// Removes every container (bounded concurrency, best effort) and then every network labelled with
    /// <paramref name="appName"/>, retrying a network the engine is still detaching for up to 10 seconds.
    /// </summary>
    /// <param name="runtime">The engine.</param>
    /// <param name="appName">The app whose resources to remove.</param>
    /// <param name="time">Clock of the retries; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Abandons the cleanup.</param>
    public static async Task RemoveAppResourcesAsync(
        IContainerRuntime runtime, string appName, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        time ??= TimeProvider.System;
        var labels = new Dictionary<string, string> { [BerthLabels.App] = appName };
        var containers = await runtime.ListAsync(labels, cancellationToken);
        await Parallel.ForEachAsync(containers, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (c, ct) =>
        {
            try
            {
                await runtime.RemoveAsync(c.Id, ct);
            }
            catch (ContainerRuntimeException ex)
            {
                await Console.Error.WriteLineAsync($"cleanup: could not remove {c.Name}: {ex.Message}");
            }
        });

        foreach (var network in await runtime.ListNetworksAsync(labels, cancellationToken))
        {
            // The engine may still be detaching the removed containers.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await runtime.RemoveNetworkAsync(network.Id, cancellationToken);
                    break;
                }
                catch (ContainerRuntimeException) when (attempt < 40)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken);
                }
                catch (ContainerRuntimeException ex)
                {
                    await Console.Error.WriteLineAsync($"cleanup: could not remove network {network.Name}: {ex.Message}");
                    break;
                }
            }
        }
    }

    /// <summary>Deletes a directory, ignoring one that is gone or busy.</summary>
    /// <param name="directory">The directory.</param>
    public static void TryDelete(string directory) => TempDirectory.TryDelete(directory);

    /// <summary>
    /// A TCP port free on the loopback interface right now, below the kernel's ephemeral range (Linux: 32768–60999) when one
    /// is found there: a port the kernel hands out from that range and that is then released can be given to another
    /// process's outgoing connection before the caller binds it (CI saw a cluster node's Orleans port taken so).
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; attempt < 64; attempt++)
        {
            var port = Random.Shared.Next(15_000, 32_000);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: another one.
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task StopAsync()
    {
        try
        {
            using var stop = new CancellationTokenSource(StopTimeout, _time);
            await _app.StopAsync(stop.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // Already stopped (StopLeavingContainersAsync), or abandoned after StopTimeout.
        }
    }
}
