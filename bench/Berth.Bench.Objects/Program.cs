// Durable object throughput, latency and memory on a real co-hosted silo with real SQLite files.
// Run: dotnet run -c Release --project bench/Berth.Bench.Objects
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Berth.Bench.Objects;
using Berth.Objects;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

var measure = TimeSpan.FromSeconds(3);
const int Concurrency = 64;
var root = Path.Combine(Path.GetTempPath(), "berth-bench", Guid.NewGuid().ToString("N"));
var rows = new List<(string Name, string Value)>();

try
{
    await using (var silo = await Silo.StartAsync(Path.Combine(root, "rpc")))
    {
        var objects = silo.Namespace;
        var one = objects.GetByName("one");
        await one.PingAsync(0);
        await Throughput(() => one.PingAsync(1), TimeSpan.FromSeconds(1)); // warm-up
        rows.Add(("RPC calls/s, one object (64 in flight)", $"{await Throughput(() => one.PingAsync(1), measure):N0}"));

        var many = Enumerable.Range(0, 1000).Select(i => objects.GetByName($"many-{i}")).ToArray();
        await Task.WhenAll(many.Select(o => o.PingAsync(0)));
        var next = 0;
        rows.Add(("RPC calls/s, 1,000 objects (64 in flight)", $"{await Throughput(() => many[(uint)Interlocked.Increment(ref next) % 1000].PingAsync(1), measure):N0}"));

        var kv = objects.GetByName("kv");
        await kv.StorageLoopAsync(20_000, write: true); // warm-up, fills 1,024 keys
        const int Ops = 200_000;
        rows.Add(("KV put ops/s, one object, inside a turn (1,024 keys, int values)", $"{Ops / TimeSpan.FromTicks(await kv.StorageLoopAsync(Ops, write: true)).TotalSeconds:N0}"));
        rows.Add(("KV get ops/s, one object, inside a turn", $"{Ops / TimeSpan.FromTicks(await kv.StorageLoopAsync(Ops, write: false)).TotalSeconds:N0}"));
        var key = 0;
        rows.Add(("KV put ops/s, one object, one RPC per put", $"{await Throughput(() =>
        {
            var i = Interlocked.Increment(ref key);
            return kv.PutAsync($"rpc:{i & 1023}", i);
        }, measure):N0}"));
        rows.Add(("KV get ops/s, one object, one RPC per get", $"{await Throughput(() => kv.GetAsync($"rpc:{Interlocked.Increment(ref key) & 1023}"), measure):N0}"));

        var latencies = new List<double>();
        for (var i = 0; i < 500; i++)
        {
            var fresh = objects.GetByName($"fresh-{i}");
            var started = Stopwatch.GetTimestamp();
            await fresh.TouchStorageAsync();
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        latencies.Sort();
        rows.Add(("Activation of a fresh object + first storage write (creates its .db), ms: mean / p50 / p99",
            $"{latencies.Average():F2} / {latencies[latencies.Count / 2]:F2} / {latencies[(int)(latencies.Count * 0.99)]:F2}"));
    }

    foreach (var withStorage in new[] { false, true })
    {
        await using var silo = await Silo.StartAsync(Path.Combine(root, withStorage ? "memory-storage" : "memory"));
        const int N = 4_000;
        await silo.Namespace.GetByName("warm").TouchStorageAsync();
        var (heapBefore, setBefore) = Memory();
        for (var i = 0; i < N; i += 100)
        {
            await Task.WhenAll(Enumerable.Range(i, 100).Select(j => withStorage
                ? silo.Namespace.GetByName($"idle-{j}").TouchStorageAsync()
                : silo.Namespace.GetByName($"idle-{j}").PingAsync(0)));
        }

        var (heapAfter, setAfter) = Memory();
        rows.Add(($"Memory per idle object{(withStorage ? " with open storage" : ", no storage opened")} ({N:N0} objects): GC heap / working set, KiB",
            $"{(heapAfter - heapBefore) / 1024.0 / N:F1} / {(setAfter - setBefore) / 1024.0 / N:F1}"));
    }

    // Cluster storage (issue 16): KV put latency, one RPC per put, one call at a time, without and with the durable store
    // (each committed put shipped to PostgreSQL before the call returns). PostgreSQL from BERTH_POSTGRES (scripts/postgres.sh).
    await using (var silo = await Silo.StartAsync(Path.Combine(root, "put-local")))
    {
        rows.Add(("KV put latency, one RPC per put, sequential, single node (no replication), ms: p50 / p99", await PutLatency(silo)));
    }

    var admin = Environment.GetEnvironmentVariable("BERTH_POSTGRES") is { Length: > 0 } configured
        ? configured
        : "Host=127.0.0.1;Port=5432;Username=berth;Password=berth;Database=berth";
    var benchDatabase = $"berth_bench_{Guid.NewGuid():N}";
    await using (var connection = new NpgsqlConnection(admin))
    {
        await connection.OpenAsync();
        await new NpgsqlCommand($"CREATE DATABASE {benchDatabase}", connection).ExecuteNonQueryAsync();
    }

    try
    {
        var cluster = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Connection"] = new NpgsqlConnectionStringBuilder(admin) { Database = benchDatabase }.ConnectionString,
        }).Build();
        await using var silo = await Silo.StartAsync(Path.Combine(root, "put-durable"), services => services.AddBerthReplication(cluster));
        rows.Add(("KV put latency, one RPC per put, sequential, durable store on (PostgreSQL on loopback), ms: p50 / p99", await PutLatency(silo)));
    }
    finally
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await new NpgsqlCommand($"DROP DATABASE IF EXISTS {benchDatabase} WITH (FORCE)", connection).ExecuteNonQueryAsync();
    }
}
finally
{
    Directory.Delete(root, recursive: true);
}

Console.WriteLine();
Console.WriteLine($"| Durable objects ({Environment.ProcessorCount} cores, .NET {Environment.Version}) | value |");
Console.WriteLine("|---|---|");
foreach (var (name, value) in rows)
{
    Console.WriteLine($"| {name} | {value} |");
}

static (long Heap, long WorkingSet) Memory()
{
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    using var process = Process.GetCurrentProcess();
    return (GC.GetTotalMemory(forceFullCollection: false), process.WorkingSet64);
}

static async Task<string> PutLatency(Silo silo)
{
    var target = silo.Namespace.GetByName("put-latency");
    for (var i = 0; i < 200; i++)
    {
        await target.PutAsync($"warm:{i & 255}", i); // warm-up: activation, first snapshot, connection pool
    }

    var latencies = new List<double>();
    for (var i = 0; i < 3000; i++)
    {
        var started = Stopwatch.GetTimestamp();
        await target.PutAsync($"key:{i & 1023}", i);
        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    latencies.Sort();
    return $"{latencies[latencies.Count / 2]:F3} / {latencies[(int)(latencies.Count * 0.99)]:F3}";
}

static async Task<double> Throughput(Func<Task> call, TimeSpan duration)
{
    long calls = 0;
    var stopwatch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
    {
        while (stopwatch.Elapsed < duration)
        {
            await call();
            Interlocked.Increment(ref calls);
        }
    }));
    return calls / stopwatch.Elapsed.TotalSeconds;
}

internal sealed class Silo : IAsyncDisposable
{
    private readonly IHost _host;

    private Silo(IHost host) => _host = host;

    public DurableObjectNamespace<IBenchObject> Namespace => _host.Services.GetRequiredService<DurableObjectNamespace<IBenchObject>>();

    public static async Task<Silo> StartAsync(string dataDirectory, Action<IServiceCollection>? configureServices = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddDurableObject<IBenchObject, BenchObject>("BENCH");
        configureServices?.Invoke(builder.Services);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(FreePort(), FreePort())
            .AddDurableObjects(options => options.DataDirectory = dataDirectory));
        var host = builder.Build();
        await host.StartAsync();
        return new Silo(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
