using Berth.Objects.Alarms;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Berth.Cluster;

/// <summary>
/// The cluster's alarm index: one row per object with a pending alarm in <c>berth_alarms</c> (grain id, due time, the node that
/// armed it), so that any node can wake an object whose node died. Writes are queued and applied by one background writer, in
/// order per object and coalesced (only an object's latest alarm is written), never on the scheduler's lock; an object's grain
/// call returns only once its writes are applied (<see cref="AlarmIndexWriteFilter"/>), as the durability promise of
/// <c>SetAlarm</c> requires. A write that fails is retried every second until it succeeds or is superseded.
/// </summary>
internal sealed class PostgresAlarmIndex : IAlarmIndex
{
    internal static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly SchedulingDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);
    private readonly CancellationTokenSource _stopping = new();
    private Dictionary<string, Change> _pending = new(StringComparer.Ordinal);
    private Dictionary<string, Change> _inFlight = new(StringComparer.Ordinal);
    private int _signaled;
    private volatile bool _hasWrites;
    private int _disposed;

    public PostgresAlarmIndex(SchedulingDatabase database, string nodeId, TimeProvider time, ILogger<PostgresAlarmIndex> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nodeId);
        _database = database;
        NodeId = nodeId;
        _time = time;
        _logger = logger;
        Writer = Task.Run(() => WriteLoopAsync(_stopping.Token));
    }

    /// <summary>Gets the node recorded as <c>armed_by</c> on every row this index writes.</summary>
    public string NodeId { get; }

    public string Description => $"PostgreSQL table berth_alarms (scope '{_database.Scope}', node {NodeId})";

    public bool IsShared => true;

    /// <summary>Gets a value indicating whether any write is queued or being applied (a cheap check for every grain call).</summary>
    public bool HasPendingWrites => _hasWrites;

    /// <summary>Gets the background writer, for tests that wait for it to end.</summary>
    internal Task Writer { get; }

    public void Upsert(string grainId, long dueMs) => Enqueue(grainId, dueMs);

    public void Remove(string grainId) => Enqueue(grainId, null);

    /// <summary>
    /// Completes once every change to <paramref name="grainId"/>'s row queued so far is in the database; faults if the write
    /// failed (it is still retried in the background, and the alarm still fires on this node while the node lives).
    /// </summary>
    public Task WhenWrittenAsync(string grainId)
    {
        lock (_lock)
        {
            if (_pending.TryGetValue(grainId, out var change) || _inFlight.TryGetValue(grainId, out change))
            {
                return change.Written.Task;
            }
        }

        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<(string GrainId, long DueMs)>> LoadAllAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT grain_id, due_ms FROM berth_alarms WHERE scope = $1 AND armed_by = $2", connection)
        {
            Parameters = { new() { Value = _database.Scope }, new() { Value = NodeId } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var alarms = new List<(string, long)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            alarms.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return alarms;
    }

    /// <summary>Stops the writer without waiting: queued writes are dropped, as they would be if the process died.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        lock (_lock)
        {
            foreach (var change in _pending.Values.Concat(_inFlight.Values))
            {
                change.Written.TrySetCanceled();
            }
        }
    }

    private void Enqueue(string grainId, long? dueMs)
    {
        lock (_lock)
        {
            if (_pending.TryGetValue(grainId, out var change))
            {
                change.DueMs = dueMs;
            }
            else
            {
                _pending[grainId] = new Change(dueMs);
            }

            _hasWrites = true;
        }

        Signal();
    }

    private void Signal()
    {
        if (Interlocked.Exchange(ref _signaled, 1) == 0)
        {
            _signal.Release();
        }
    }

    private async Task WriteLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await _signal.WaitAsync(cancellationToken);
                Interlocked.Exchange(ref _signaled, 0);
                Dictionary<string, Change> batch;
                lock (_lock)
                {
                    if (_pending.Count == 0)
                    {
                        continue;
                    }

                    batch = _pending;
                    _pending = new(StringComparer.Ordinal);
                    _inFlight = batch;
                }

                Exception? failure = null;
                try
                {
                    await WriteAsync(batch, cancellationToken);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = e;
                }

                lock (_lock)
                {
                    _inFlight = new(StringComparer.Ordinal);
                    if (failure is not null)
                    {
                        // Retry what no later change superseded; a later change carries the latest state anyway.
                        foreach (var (grainId, change) in batch)
                        {
                            _pending.TryAdd(grainId, new Change(change.DueMs));
                        }
                    }

                    _hasWrites = _pending.Count > 0;
                }

                foreach (var (grainId, change) in batch)
                {
                    if (failure is null)
                    {
                        change.Written.TrySetResult();
                    }
                    else
                    {
                        change.Written.TrySetException(new InvalidOperationException(
                            $"The alarm of {grainId} could not be written to berth_alarms in the cluster database; the write is retried, and until it lands only this node can wake the object.",
                            failure));
                    }
                }

                if (failure is not null)
                {
                    SchedulingLog.IndexWriteFailed(_logger, failure, batch.Count, RetryDelay);
                    await Task.Delay(RetryDelay, _time, cancellationToken);
                    Signal();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed: queued writes are dropped (see Dispose).
        }
    }

    private async Task WriteAsync(Dictionary<string, Change> batch, CancellationToken cancellationToken)
    {
        var upsertIds = new List<string>();
        var upsertDues = new List<long>();
        var removed = new List<string>();
        foreach (var (grainId, change) in batch)
        {
            if (change.DueMs is { } dueMs)
            {
                upsertIds.Add(grainId);
                upsertDues.Add(dueMs);
            }
            else
            {
                removed.Add(grainId);
            }
        }

        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await _database.OpenAsync(cancellationToken);

        // One round trip, one implicit transaction. A re-armed alarm belongs to its new node and loses any claim on it.
        await using var commands = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("""
                    INSERT INTO berth_alarm_nodes (scope, node_id, heartbeat_ms) VALUES ($1, $2, $3)
                    ON CONFLICT (scope, node_id) DO UPDATE SET heartbeat_ms = GREATEST(berth_alarm_nodes.heartbeat_ms, EXCLUDED.heartbeat_ms)
                    """)
                {
                    Parameters = { new() { Value = _database.Scope }, new() { Value = NodeId }, new() { Value = nowMs } },
                },
                new NpgsqlBatchCommand("""
                    INSERT INTO berth_alarms (scope, grain_id, due_ms, armed_by)
                    SELECT $1, t.g, t.d, $2 FROM unnest($3::text[], $4::bigint[]) AS t(g, d)
                    ON CONFLICT (scope, grain_id) DO UPDATE
                    SET due_ms = EXCLUDED.due_ms, armed_by = EXCLUDED.armed_by, claimed_by = NULL, claimed_until_ms = NULL
                    """)
                {
                    Parameters = { new() { Value = _database.Scope }, new() { Value = NodeId }, new() { Value = upsertIds.ToArray() }, new() { Value = upsertDues.ToArray() } },
                },
                new NpgsqlBatchCommand("DELETE FROM berth_alarms WHERE scope = $1 AND grain_id = ANY($2::text[])")
                {
                    Parameters = { new() { Value = _database.Scope }, new() { Value = removed.ToArray() } },
                },
            },
        };
        await commands.ExecuteNonQueryAsync(cancellationToken);
    }

    private sealed class Change(long? dueMs)
    {
        public long? DueMs = dueMs;

        public readonly TaskCompletionSource Written = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
