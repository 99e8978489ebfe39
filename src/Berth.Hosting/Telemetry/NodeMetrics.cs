using System.Diagnostics.Metrics;
using Berth.Containers;
using Berth.Gateway;
using Berth.Gateway.Pools;
using Berth.Objects;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>
/// The node's observable metrics, read only when a scrape asks: <c>berth.gateway.queue.depth</c> (requests each pool holds
/// while an instance starts) and <c>berth.storage.size</c> (bytes of durable-object storage on this node, summed per class).
/// </summary>
internal sealed class NodeMetrics : IDisposable
{
    /// <summary>How long a storage size stays cached: a scrape walks the objects directory at most this often.</summary>
    internal static readonly TimeSpan StorageSizeCacheDuration = TimeSpan.FromSeconds(15);

    private readonly Meter _gatewayMeter;
    private readonly Meter _objectsMeter;
    private readonly ContainerPoolRegistry? _pools;
    private readonly string _objectsDirectory;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private List<Measurement<long>> _storage = [];
    private long _storageReadAt;

    public NodeMetrics(IMeterFactory meterFactory, IOptions<DurableObjectOptions> objects, TimeProvider time, ContainerPoolRegistry? pools = null)
    {
        _pools = pools;
        _time = time;
        _objectsDirectory = Path.Combine(Path.GetFullPath(objects.Value.DataDirectory), "objects");
        _gatewayMeter = meterFactory.Create(GatewayTelemetry.Name);
        _gatewayMeter.CreateObservableUpDownCounter("berth.gateway.queue.depth", ObserveQueues, "{request}",
            "Requests a pool holds while it has no free instance (max_queued_requests bounds it).");
        _objectsMeter = meterFactory.Create(AlarmTelemetry.Name);
        _objectsMeter.CreateObservableUpDownCounter("berth.storage.size", ObserveStorage, "By",
            "Bytes of durable-object storage (SQLite files with their write-ahead logs) on this node's disk, per object class.");
    }

    public void Dispose()
    {
        _gatewayMeter.Dispose();
        _objectsMeter.Dispose();
    }

    private IEnumerable<Measurement<long>> ObserveQueues()
    {
        foreach (var pool in _pools?.Created ?? [])
        {
            yield return new Measurement<long>(pool.QueuedRequests, new KeyValuePair<string, object?>(ContainerTelemetry.ClassTag, pool.ClassName));
        }
    }

    private List<Measurement<long>> ObserveStorage()
    {
        lock (_lock)
        {
            if (_storageReadAt != 0 && _time.GetElapsedTime(_storageReadAt) < StorageSizeCacheDuration)
            {
                return _storage;
            }

            _storage = [.. ReadStorageSizes(_objectsDirectory)];
            _storageReadAt = _time.GetTimestamp();
            return _storage;
        }
    }

    /// <summary>Sums the files of each class directory under <paramref name="objectsDirectory"/> (<c>{class}/{id}.db</c>, <c>-wal</c>, <c>-shm</c>).</summary>
    internal static IEnumerable<Measurement<long>> ReadStorageSizes(string objectsDirectory)
    {
        if (!Directory.Exists(objectsDirectory))
        {
            yield break;
        }

        foreach (var classDirectory in new DirectoryInfo(objectsDirectory).EnumerateDirectories())
        {
            long bytes = 0;
            try
            {
                foreach (var file in classDirectory.EnumerateFiles())
                {
                    bytes += file.Length;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A file went away (or a class directory) between listing and reading: report what was read.
            }

            yield return new Measurement<long>(bytes, new KeyValuePair<string, object?>(ContainerTelemetry.ClassTag, classDirectory.Name));
        }
    }
}
