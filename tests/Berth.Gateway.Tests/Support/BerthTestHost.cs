using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Berth.Containers;
using Berth.Hosting;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Gateway.Tests;

/// <summary>
/// A whole Berth app in this process: Orleans silo on free loopback ports, Kestrel on 127.0.0.1,
/// the real Docker engine. Every container and network it makes carries the test labels and a
/// unique app name; disposing removes them.
/// </summary>
public sealed class BerthTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly bool _ownsDataDirectory;

    private BerthTestHost(WebApplication app, string appName, string dataDirectory, bool ownsDataDirectory)
    {
        _app = app;
        AppName = appName;
        DataDirectory = dataDirectory;
        _ownsDataDirectory = ownsDataDirectory;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string AppName { get; }

    public string DataDirectory { get; }

    public HttpClient Client { get; }

    public Uri BaseAddress => Client.BaseAddress!;

    public IServiceProvider Services => _app.Services;

    public IContainerRuntime Runtime => Services.GetRequiredService<IContainerRuntime>();

    public static async Task<BerthTestHost> StartAsync(
        Action<BerthBuilder> configure,
        Action<WebApplication> map,
        string? appName = null,
        string? dataDirectory = null,
        Action<WebApplicationBuilder>? configureHost = null,
        X509Certificate2? httpsCertificate = null)
    {
        appName ??= "t" + Guid.NewGuid().ToString("N")[..10];
        var ownsDataDirectory = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "berth-tests", appName);
        Directory.CreateDirectory(dataDirectory);

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Test", ContentRootPath = dataDirectory });
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            if (httpsCertificate is not null)
            {
                listen.UseHttps(httpsCertificate);
            }
        }));
        builder.Logging.ClearProviders().AddSimpleConsole().SetMinimumLevel(Environment.GetEnvironmentVariable("BERTH_TEST_LOGS") == "1" ? LogLevel.Information : LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Configuration["Berth:Cluster:SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Configuration["Berth:Cluster:GatewayPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Configuration["Berth:Objects:DataDirectory"] = dataDirectory;
        configureHost?.Invoke(builder);
        builder.AddBerth(berth =>
        {
            berth.ConfigureContainers(o =>
            {
                o.AppName = appName;
                o.PortReadyTimeout = TimeSpan.FromSeconds(15);
                o.StopGracePeriod = TimeSpan.FromSeconds(2);
                foreach (var (key, value) in TestResources.Labels())
                {
                    o.ExtraLabels[key] = value;
                }
            });
            configure(berth);
        });

        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return new BerthTestHost(app, appName, dataDirectory, ownsDataDirectory);
    }

    /// <summary>Containers of this app, running or not.</summary>
    public Task<IReadOnlyList<ContainerSummary>> ContainersAsync(string? objectId = null)
    {
        var labels = new Dictionary<string, string> { [BerthLabels.App] = AppName };
        if (objectId is not null)
        {
            labels[BerthLabels.ObjectId] = objectId;
        }

        return Runtime.ListAsync(labels);
    }

    /// <summary>Stops the host and leaves its containers running, as a crash would.</summary>
    public async Task StopLeavingContainersAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Client.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        var runtime = Runtime;
        try
        {
            await _app.StopAsync();
        }
        catch (ObjectDisposedException)
        {
            // Already stopped by StopLeavingContainersAsync.
        }

        await RemoveAppResourcesAsync(runtime, AppName);
        await _app.DisposeAsync();
        Client.Dispose();
        if (_ownsDataDirectory)
        {
            TryDelete(DataDirectory);
        }
    }

    public static async Task RemoveAppResourcesAsync(IContainerRuntime runtime, string appName)
    {
        var labels = new Dictionary<string, string> { [BerthLabels.App] = appName };
        foreach (var container in await runtime.ListAsync(labels))
        {
            await runtime.RemoveAsync(container.Id);
        }

        foreach (var network in await runtime.ListNetworksAsync(labels))
        {
            // The engine may still be detaching the removed containers.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await runtime.RemoveNetworkAsync(network.Id);
                    break;
                }
                catch (ContainerRuntimeException) when (attempt < 20)
                {
                    await Task.Delay(250);
                }
            }
        }
    }

    public static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Polls until a condition holds, failing with a message after a generous bound.</summary>
public static class Eventually
{
    public static async Task<T> ValueAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}; last value: {value}");
            }

            await Task.Delay(100);
        }
    }
}
