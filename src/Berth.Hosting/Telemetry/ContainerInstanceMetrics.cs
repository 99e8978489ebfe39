using System.Diagnostics.Metrics;
using Berth.Containers;

namespace Berth.Hosting;

/// <summary>
/// Keeps the metrics of this node's container objects from their state changes (<see cref="IContainerStateObserver"/>), never by
/// asking objects: <c>berth.container.instances</c> per class and state, <c>berth.container.starts</c> and
/// <c>berth.container.cold_start.duration</c>. Tags are the class (from the app's configuration) and a state from a fixed set.
/// </summary>
internal sealed class ContainerInstanceMetrics : IContainerStateObserver, IDisposable
{
    /// <summary>The states <c>berth.container.instances</c> counts, in the order they are reported.</summary>
    internal static readonly string[] States = ["starting", "running", "stopping", "sleeping"];

    private const int Untracked = -1;

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Class, string Object), int> _objects = [];
    private readonly Dictionary<string, long[]> _counts = new(StringComparer.Ordinal);
    private readonly Meter? _meter;
    private readonly Counter<long>? _starts;
    private readonly Histogram<double>? _coldStarts;

    /// <summary>Creates the bookkeeping and, when <paramref name="meterFactory"/> is given, its instruments.</summary>
    public ContainerInstanceMetrics(IMeterFactory? meterFactory)
    {
        if (meterFactory is null)
        {
            return;
        }

        _meter = meterFactory.Create(ContainerTelemetry.Name);
        _starts = _meter.CreateCounter<long>("berth.container.starts", "{start}", "Containers started by container objects on this node (a warm-pool claim counts).");
        _coldStarts = _meter.CreateHistogram(
            "berth.container.cold_start.duration", "s", "Time from a start's beginning (create, or warm-pool claim) to the container being ready.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 30, 60] });
        _meter.CreateObservableUpDownCounter("berth.container.instances", Observe, "{instance}",
            "Container objects on this node by class and state: starting (container runs, not ready), running (ready), stopping, sleeping (its container stopped: slept, stopped or exited, since this node started).");
    }

    /// <inheritdoc />
    public void OnStateChanged(ContainerStateChange change)
    {
        var state = StateIndex(change);
        int previous;
        lock (_lock)
        {
            var key = (change.ClassName, change.ObjectId);
            previous = _objects.GetValueOrDefault(key, Untracked);
            if (!_counts.TryGetValue(change.ClassName, out var counts))
            {
                _counts[change.ClassName] = counts = new long[States.Length];
            }

            if (previous != Untracked)
            {
                counts[previous]--;
            }

            counts[state]++;
            _objects[key] = state;
        }

        var tag = new KeyValuePair<string, object?>(ContainerTelemetry.ClassTag, change.ClassName);
        if (state is 0 or 1 && previous is not (0 or 1))
        {
            _starts?.Add(1, tag);
        }

        if (change.StartDuration is { } duration)
        {
            _coldStarts?.Record(duration.TotalSeconds, tag);
        }
    }

    /// <summary>The current count of each (class, state), states in <see cref="States"/> order.</summary>
    internal IReadOnlyDictionary<string, long[]> Snapshot()
    {
        lock (_lock)
        {
            return _counts.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);
        }
    }

    public void Dispose() => _meter?.Dispose();

    private IEnumerable<Measurement<long>> Observe()
    {
        foreach (var (className, counts) in Snapshot())
        {
            for (var i = 0; i < States.Length; i++)
            {
                yield return new Measurement<long>(counts[i],
                    new KeyValuePair<string, object?>(ContainerTelemetry.ClassTag, className), new KeyValuePair<string, object?>("berth.state", States[i]));
            }
        }
    }

    /// <summary>The index in <see cref="States"/> of the object's state after the change.</summary>
    private static int StateIndex(ContainerStateChange change) => change.State switch
    {
        ContainerObjectState.Running => 0,
        ContainerObjectState.Healthy => 1,
        ContainerObjectState.Stopping => 2,
        _ => 3,
    };
}
