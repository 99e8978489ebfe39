using BenchmarkDotNet.Attributes;
using Berth.Objects;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Bench.Micro;

public interface IBenchObject : IDurableObject
{
    Task<int> PingAsync(int value);
}

public sealed class BenchObject : DurableObject, IBenchObject
{
    public Task<int> PingAsync(int value) => Task.FromResult(value + 1);
}

/// <summary>Durable object addressing and RPC on a real co-hosted silo (in-process call path).</summary>
[MemoryDiagnoser]
public class ObjectBenchmarks
{
    private IHost _host = null!;
    private string _directory = "";
    private DurableObjectNamespace<IBenchObject> _objects = null!;
    private IBenchObject _one = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _directory = Path.Combine(Path.GetTempPath(), "berth-bench-" + Guid.NewGuid().ToString("N"));
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort: 22111, gatewayPort: 32000)
            .AddDurableObjects(o => o.DataDirectory = _directory));
        builder.Services.AddDurableObject<IBenchObject, BenchObject>("BENCH");
        _host = builder.Build();
        await _host.StartAsync();
        _objects = _host.Services.GetRequiredService<DurableObjectNamespace<IBenchObject>>();
        _one = _objects.GetByName("one");
        await _one.PingAsync(0);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public DurableObjectId IdFromName() => _objects.IdFromName("session-4f2a9c");

    [Benchmark]
    public IBenchObject GetByName() => _objects.GetByName("session-4f2a9c");

    [Benchmark]
    public Task<int> RpcToActiveObject() => _one.PingAsync(1);
}
