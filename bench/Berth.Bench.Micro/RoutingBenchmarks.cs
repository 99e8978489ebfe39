using BenchmarkDotNet.Attributes;
using Berth.Containers;

namespace Berth.Bench.Micro;

/// <summary>The platform's share of a warm request: find the container's lease, enter it, pick the destination, exit.</summary>
[MemoryDiagnoser]
public class RoutingBenchmarks
{
    private const string ClassName = "BenchContainer";
    private const string ObjectId = "3f1c2b7a9d8e4f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";
    private readonly ContainerLeaseRegistry _registry = new(TimeProvider.System);

    [GlobalSetup]
    public void Setup()
    {
        // A node with a few thousand running containers, so the lookup is not into an almost empty table.
        for (var i = 0; i < 5_000; i++)
        {
            _registry.GetOrAdd(ClassName, i.ToString("x64", System.Globalization.CultureInfo.InvariantCulture));
        }

        _registry.GetOrAdd(ClassName, ObjectId).OpenFor(new ContainerEndpoint("c0ffee", "172.18.0.2", 8080, [8080]));
    }

    [Benchmark]
    public string WarmPath_FindEnterDestinationExit()
    {
        var lease = _registry.Find(ClassName, ObjectId)!;
        lease.TryEnter(out var endpoint);
        var destination = endpoint!.GetDestinationPrefix(8080);
        lease.Exit();
        return destination;
    }
}
