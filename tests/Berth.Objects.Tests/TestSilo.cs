using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // timing assertions need a quiet 2-core machine

namespace Berth.Objects.Tests;

/// <summary>A real silo co-hosted in a generic host, on free loopback ports, with its own data directory.</summary>
public sealed class TestSilo : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly bool _ownsDirectory;

    private TestSilo(IHost host, string dataDirectory, bool ownsDirectory)
    {
        _host = host;
        DataDirectory = dataDirectory;
        _ownsDirectory = ownsDirectory;
    }

    public string DataDirectory { get; }

    public IServiceProvider Services => _host.Services;

    public TestProbe Probe => Services.GetRequiredService<TestProbe>();

    public DurableObjectNamespace<ICounter> Counters => Services.GetRequiredKeyedService<DurableObjectNamespace<ICounter>>("COUNTER");

    public DurableObjectNamespace<ICounter> Others => Services.GetRequiredKeyedService<DurableObjectNamespace<ICounter>>("OTHER");

    public static async Task<TestSilo> StartAsync(Action<DurableObjectOptions>? configure = null, string? dataDirectory = null)
    {
        var ownsDirectory = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "berth-tests", Guid.NewGuid().ToString("N"));
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TestProbe>();
        builder.Services.AddDurableObject<ICounter, Counter>("COUNTER");
        builder.Services.AddDurableObject<ICounter, OtherCounter>("OTHER");
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(FreePort(), FreePort())
            .AddDurableObjects(options =>
            {
                options.DataDirectory = dataDirectory;
                configure?.Invoke(options);
            }));
        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new TestSilo(host, dataDirectory, ownsDirectory);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        if (_ownsDirectory && Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}

/// <summary>One silo with default options shared by the tests that need nothing special.</summary>
public sealed class SharedSilo : IAsyncLifetime
{
    public TestSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync() => Silo = await TestSilo.StartAsync(o => o.AlarmRetryInitialDelay = TimeSpan.FromMilliseconds(100));

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

[CollectionDefinition(nameof(SharedSilo))]
public sealed class SharedSiloCollection : ICollectionFixture<SharedSilo>;

internal static class ChannelExtensions
{
    public static async Task<T> ReadWithinAsync<T>(this System.Threading.Channels.ChannelReader<T> reader, TimeSpan timeout, Func<T, bool>? match = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var item = await reader.ReadAsync(cts.Token);
                if (match is null || match(item))
                {
                    return item;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Nothing matching arrived within {timeout}.");
        }
    }
}
