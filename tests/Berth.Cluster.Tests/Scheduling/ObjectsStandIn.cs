using System.Collections.Concurrent;
using Berth.Objects.Alarms;

namespace Berth.Cluster.Tests.Scheduling;

/// <summary>
/// Objects as <c>DurableObjectContext.DeliverAlarmAsync</c> treats a wake (the cluster code under test only wakes; the object
/// decides): the alarm stored with the object is the truth; a wake fires only a due alarm, clearing it first, and the object
/// reports to the scheduler of the node it is active on (<see cref="Host"/>), which owns its index row from then on.
/// </summary>
internal sealed class ObjectsStandIn(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, long> _stored = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string GrainId, long DueMs)> _fired = new();

    /// <summary>Gets or sets the scheduler of the node the objects are active on.</summary>
    public AlarmScheduler? Host { get; set; }

    /// <summary>Gets or sets what runs when a wake arrives, before the object looks at its alarm.</summary>
    public Func<string, Task>? BeforeWake { get; set; }

    public IReadOnlyList<(string GrainId, long DueMs)> Fired => [.. _fired];

    public ConcurrentDictionary<string, int> Wakes { get; } = new(StringComparer.Ordinal);

    public void SetAlarm(string grainId, DateTimeOffset due)
    {
        _stored[grainId] = due.ToUnixTimeMilliseconds();
        Host!.Schedule(grainId, due);
    }

    public void DeleteAlarm(string grainId)
    {
        _stored.TryRemove(grainId, out _);
        Host!.Cancel(grainId);
    }

    public IAlarmDispatcher Dispatcher => new WakeDispatcher(this);

    private async Task WakeAsync(string grainId)
    {
        Wakes.AddOrUpdate(grainId, 1, (_, n) => n + 1);
        if (BeforeWake is { } before)
        {
            await before(grainId);
        }

        var host = Host!;
        if (!_stored.TryGetValue(grainId, out var dueMs))
        {
            host.Cancel(grainId);
            return;
        }

        if (dueMs > time.GetUtcNow().ToUnixTimeMilliseconds())
        {
            host.Schedule(grainId, DateTimeOffset.FromUnixTimeMilliseconds(dueMs));
            return;
        }

        if (_stored.TryRemove(new KeyValuePair<string, long>(grainId, dueMs)))
        {
            host.Cancel(grainId);
            _fired.Enqueue((grainId, dueMs));
        }
    }

    private sealed class WakeDispatcher(ObjectsStandIn objects) : IAlarmDispatcher
    {
        public Task DeliverAsync(string grainId, CancellationToken cancellationToken) => objects.WakeAsync(grainId);
    }
}
