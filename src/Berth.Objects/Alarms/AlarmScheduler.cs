using Microsoft.Extensions.Logging;

namespace Berth.Objects.Alarms;

/// <summary>
/// Delivers the alarms of the objects on this silo with millisecond precision: one timer, armed for the
/// earliest due alarm, no polling per object. Pending alarms are kept in the silo's <see cref="IAlarmIndex"/>
/// (<see cref="AlarmIndex"/> by default) so that they survive a crash; on start every alarm in the index is loaded
/// and overdue ones fire at once.
/// </summary>
/// <remarks>
/// A delivered alarm stays pending under a lease: the object reports back (<see cref="Schedule"/> for a retry or
/// a new alarm, <see cref="Cancel"/> when done), and if it never does (activation failed, silo busy) the lease
/// runs out and the alarm is delivered again. The object's own database decides whether anything is due.
/// With a shared index (a cluster), a delivery that succeeds without the object reporting back here means the object
/// lives on another node and reported to that node's scheduler: the entry is dropped here (its index row is that node's now).
/// </remarks>
internal sealed class AlarmScheduler : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    internal static readonly TimeSpan DeliveryLease = TimeSpan.FromMinutes(1);

    // Timers are re-armed at least this often, well below the ~49-day limit of a timer's due time.
    private static readonly long MaxTimerDelayMs = (long)TimeSpan.FromHours(1).TotalMilliseconds;

    private readonly Lock _lock = new();
    private readonly IAlarmIndex _index;
    private readonly IAlarmDispatcher _dispatcher;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly SortedSet<(long DueMs, string GrainId)> _queue = new(QueueOrder.Instance);
    private readonly HashSet<Task> _deliveries = [];
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _timer;
    private long _armedMs = long.MaxValue;

    public AlarmScheduler(IAlarmIndex index, IAlarmDispatcher dispatcher, TimeProvider time, ILogger<AlarmScheduler> logger)
    {
        _index = index;
        _dispatcher = dispatcher;
        _time = time;
        _logger = logger;
    }

    /// <summary>Gets the number of objects with a pending alarm.</summary>
    public int PendingCount
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Records that <paramref name="grainId"/> must be woken at <paramref name="due"/>, replacing any earlier entry.</summary>
    public void Schedule(string grainId, DateTimeOffset due)
    {
        var dueMs = due.ToUnixTimeMilliseconds();
        lock (_lock)
        {
            var known = _entries.TryGetValue(grainId, out var entry);
            if (known && entry.PersistedMs == dueMs && entry.NextMs == dueMs)
            {
                return;
            }

            if (known)
            {
                _queue.Remove((entry.NextMs, grainId));
            }

            if (!known || entry.PersistedMs != dueMs)
            {
                _index.Upsert(grainId, dueMs);
            }

            _entries[grainId] = new Entry(dueMs, dueMs);
            _queue.Add((dueMs, grainId));
            ArmLocked();
        }
    }

    /// <summary>Forgets the pending alarm of <paramref name="grainId"/>.</summary>
    public void Cancel(string grainId)
    {
        lock (_lock)
        {
            if (_entries.Remove(grainId, out var entry))
            {
                _queue.Remove((entry.NextMs, grainId));
                _index.Remove(grainId);
                ArmLocked();
            }
            else if (_index.IsShared)
            {
                // Woken by another node (its node died, or its timer was late): the shared row is this node's to clear.
                _index.Remove(grainId);
            }
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var stored = await _index.LoadAllAsync(cancellationToken);
        int count;
        lock (_lock)
        {
            foreach (var (grainId, dueMs) in stored)
            {
                // An object that reported before the start knows better than the index.
                if (_entries.TryAdd(grainId, new Entry(dueMs, dueMs)))
                {
                    _queue.Add((dueMs, grainId));
                }
            }

            _timer ??= _time.CreateTimer(static state => ((AlarmScheduler)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            ArmLocked();
            count = _entries.Count;
        }

        Log.SchedulerStarted(_logger, count, _index.Description);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task[] pending;
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
            _armedMs = long.MaxValue;
            pending = [.. _deliveries];
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(pending).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Participate(ISiloLifecycle observer) =>
        observer.Subscribe(nameof(AlarmScheduler), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    public void Dispose()
    {
        _timer?.Dispose();
        _stopping.Dispose();
        _index.Dispose();
    }

    private void ArmLocked()
    {
        if (_timer is null)
        {
            return;
        }

        if (_queue.Count == 0)
        {
            if (_armedMs != long.MaxValue)
            {
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _armedMs = long.MaxValue;
            }

            return;
        }

        var nextMs = _queue.Min.DueMs;
        if (nextMs == _armedMs)
        {
            return;
        }

        var delayMs = Math.Clamp(nextMs - _time.GetUtcNow().ToUnixTimeMilliseconds(), 0, MaxTimerDelayMs);
        _armedMs = nextMs;
        _timer.Change(TimeSpan.FromMilliseconds(delayMs), Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        List<string>? due = null;
        long leaseMs;
        lock (_lock)
        {
            if (_timer is null)
            {
                return;
            }

            _armedMs = long.MaxValue;
            var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
            leaseMs = nowMs + (long)DeliveryLease.TotalMilliseconds;
            while (_queue.Count > 0 && _queue.Min.DueMs <= nowMs)
            {
                var (dueMs, grainId) = _queue.Min;
                AlarmTelemetry.RecordLag(dueMs, nowMs);
                _queue.Remove(_queue.Min);
                _entries[grainId] = _entries[grainId] with { NextMs = leaseMs };
                _queue.Add((leaseMs, grainId));
                (due ??= []).Add(grainId);
            }

            ArmLocked();
        }

        foreach (var grainId in due ?? [])
        {
            var delivery = DeliverAsync(grainId, leaseMs);
            lock (_lock)
            {
                _deliveries.Add(delivery);
            }

            delivery.ContinueWith(
                static (task, state) =>
                {
                    var self = (AlarmScheduler)state!;
                    lock (self._lock)
                    {
                        self._deliveries.Remove(task);
                    }
                },
                this,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private async Task DeliverAsync(string grainId, long leaseMs)
    {
        try
        {
            await _dispatcher.DeliverAsync(grainId, _stopping.Token);
            if (_index.IsShared)
            {
                DropIfHostedElsewhere(grainId, leaseMs);
            }
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            Log.DeliveryFailed(_logger, e, grainId, DeliveryLease);
        }
        catch (Exception)
        {
            // Stopping: the alarm stays in the index and is delivered after the next start.
        }
    }

    /// <summary>
    /// After a successful delivery, an entry still under this delivery's lease means the object reported to another node's
    /// scheduler (an object on this node reports here before its call returns): that node owns the alarm now.
    /// </summary>
    private void DropIfHostedElsewhere(string grainId, long leaseMs)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(grainId, out var entry) && entry.NextMs == leaseMs)
            {
                _entries.Remove(grainId);
                _queue.Remove((leaseMs, grainId));
                ArmLocked();
            }
        }
    }

    private readonly record struct Entry(long PersistedMs, long NextMs);

    private sealed class QueueOrder : IComparer<(long DueMs, string GrainId)>
    {
        public static readonly QueueOrder Instance = new();

        public int Compare((long DueMs, string GrainId) x, (long DueMs, string GrainId) y)
        {
            var byTime = x.DueMs.CompareTo(y.DueMs);
            return byTime != 0 ? byTime : string.CompareOrdinal(x.GrainId, y.GrainId);
        }
    }
}
