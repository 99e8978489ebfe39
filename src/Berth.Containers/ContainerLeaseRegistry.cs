using System.Collections.Concurrent;

namespace Berth.Containers;

/// <summary>
/// Per-node table of container leases and running-instance counts per class. The gateway reads
/// it on every request, so lookups are lock-free and allocation-free.
/// </summary>
public sealed class ContainerLeaseRegistry(TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<(string ClassName, string ObjectId), ContainerLease> _leases = new();
    private readonly ConcurrentDictionary<string, InstanceCounter> _running = new(StringComparer.Ordinal);

    /// <summary>Finds the lease of a running container, if this node has one.</summary>
    public ContainerLease? Find(string className, string objectId) =>
        _leases.TryGetValue((className, objectId), out var lease) ? lease : null;

    /// <summary>Number of containers of a class this node runs or is starting.</summary>
    public int RunningCount(string className) => _running.TryGetValue(className, out var counter) ? counter.Value : 0;

    internal ContainerLease GetOrAdd(string className, string objectId) =>
        _leases.GetOrAdd((className, objectId), static (_, time) => new ContainerLease(time), timeProvider);

    internal void Remove(string className, string objectId, ContainerLease lease) =>
        _leases.TryRemove(new KeyValuePair<(string, string), ContainerLease>((className, objectId), lease));

    /// <summary>Counts one more instance of the class unless that would exceed <paramref name="maxInstances"/>.</summary>
    internal bool TryReserveInstance(string className, int maxInstances)
    {
        var counter = _running.GetOrAdd(className, static _ => new InstanceCounter());
        while (true)
        {
            var current = counter.Value;
            if (current >= maxInstances)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref counter.Value, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    internal void ReleaseInstance(string className)
    {
        if (_running.TryGetValue(className, out var counter))
        {
            Interlocked.Decrement(ref counter.Value);
        }
    }

    private sealed class InstanceCounter
    {
        public int Value;
    }
}
