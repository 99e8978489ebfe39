using Berth.Objects.Alarms;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Berth.Cluster;

/// <summary>
/// Every node's safety net for alarms no node wakes: each <see cref="ClusterSchedulingOptions.PollInterval"/> it renews this
/// node's liveness row and claims, with <c>FOR UPDATE SKIP LOCKED</c> (so two nodes never claim the same row), the alarms in
/// <c>berth_alarms</c> that are overdue by more than <see cref="ClusterSchedulingOptions.OverdueGrace"/>, or due and armed by a
/// node silent for <see cref="ClusterSchedulingOptions.NodeTimeout"/>; then it wakes each object through Orleans, which
/// activates it wherever placement says. The hosting node's own timers stay the precise path; this only catches what they miss.
/// </summary>
/// <remarks>
/// A wake is not a fire: the object reads its own storage and fires only an alarm that is due there, clearing it (or arming
/// the retry) before its handler runs. So a stale claim (the object re-armed or deleted its alarm meanwhile) or two wakes of
/// one alarm fire it at most once. A claimed row is reserved for <see cref="ClusterSchedulingOptions.ClaimLease"/>; any write
/// by the object's node (re-arm, retry, delete) clears the claim, a failed wake releases it.
/// </remarks>
internal sealed class AlarmClaimer : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private static readonly TimeSpan NodeRowRetention = TimeSpan.FromDays(1);

    private readonly SchedulingDatabase _database;
    private readonly IAlarmDispatcher _dispatcher;
    private readonly ClusterSchedulingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    public AlarmClaimer(
        SchedulingDatabase database,
        SchedulingNode node,
        IAlarmDispatcher dispatcher,
        IOptions<ClusterSchedulingOptions> options,
        TimeProvider time,
        ILogger<AlarmClaimer> logger)
    {
        _database = database;
        NodeId = node.Id;
        _dispatcher = dispatcher;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>Gets the node recorded as <c>claimed_by</c> and in <c>berth_alarm_nodes</c>.</summary>
    public string NodeId { get; }

    public void Participate(ISiloLifecycle observer) =>
        observer.Subscribe(nameof(AlarmClaimer), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _database.EnsureSchemaAsync(cancellationToken);
        await HeartbeatAsync(cancellationToken);
        SchedulingLog.Started(_logger, NodeId, _options.PollInterval, _options.OverdueGrace, _options.NodeTimeout);
        _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose()
    {
        // Idempotent: the container disposes it once per registration (itself and as a lifecycle participant).
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stopping.Cancel();
            _stopping.Dispose();
        }
    }

    /// <summary>
    /// One round: renews this node's liveness, claims what is overdue or orphaned, wakes those objects (in parallel) and
    /// releases the claims of failed wakes. Returns the number of alarms claimed.
    /// </summary>
    internal async Task<int> PollOnceAsync(CancellationToken cancellationToken)
    {
        await HeartbeatAsync(cancellationToken);
        var claimed = await ClaimAsync(cancellationToken);
        if (claimed.Count == 0)
        {
            return 0;
        }

        SchedulingLog.Claimed(_logger, claimed.Count);
        await Task.WhenAll(claimed.Select(alarm => WakeAsync(alarm, cancellationToken)));
        return claimed.Count;
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.PollInterval, _time, cancellationToken);
                await PollOnceAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                SchedulingLog.PollFailed(_logger, e, _options.PollInterval);
            }
        }
    }

    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await _database.OpenAsync(cancellationToken);
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

                // Rows of long-gone nodes (every restart is a new node): a node with no row counts as gone anyway.
                new NpgsqlBatchCommand("DELETE FROM berth_alarm_nodes WHERE scope = $1 AND heartbeat_ms < $2")
                {
                    Parameters = { new() { Value = _database.Scope }, new() { Value = nowMs - (long)NodeRowRetention.TotalMilliseconds } },
                },
            },
        };
        await commands.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<List<ClaimedAlarm>> ClaimAsync(CancellationToken cancellationToken)
    {
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var untilMs = nowMs + (long)_options.ClaimLease.TotalMilliseconds;
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            WITH due AS (
                SELECT a.grain_id
                FROM berth_alarms a
                LEFT JOIN berth_alarm_nodes n ON n.scope = a.scope AND n.node_id = a.armed_by
                WHERE a.scope = $1
                  AND a.due_ms <= $2
                  AND (a.claimed_until_ms IS NULL OR a.claimed_until_ms <= $2)
                  AND (a.due_ms <= $2 - $3 OR n.heartbeat_ms IS NULL OR n.heartbeat_ms <= $2 - $4)
                ORDER BY a.due_ms
                LIMIT $5
                FOR UPDATE OF a SKIP LOCKED)
            UPDATE berth_alarms a SET claimed_by = $6, claimed_until_ms = $7
            FROM due WHERE a.scope = $1 AND a.grain_id = due.grain_id
            RETURNING a.grain_id, a.due_ms
            """, connection)
        {
            Parameters =
            {
                new() { Value = _database.Scope },
                new() { Value = nowMs },
                new() { Value = (long)_options.OverdueGrace.TotalMilliseconds },
                new() { Value = (long)_options.NodeTimeout.TotalMilliseconds },
                new() { Value = _options.ClaimBatchSize },
                new() { Value = NodeId },
                new() { Value = untilMs },
            },
        };
        var claimed = new List<ClaimedAlarm>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new ClaimedAlarm(reader.GetString(0), reader.GetInt64(1), untilMs));
        }

        return claimed;
    }

    private async Task WakeAsync(ClaimedAlarm alarm, CancellationToken cancellationToken)
    {
        try
        {
            await _dispatcher.DeliverAsync(alarm.GrainId, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            SchedulingLog.WakeFailed(_logger, e, alarm.GrainId, DateTimeOffset.FromUnixTimeMilliseconds(alarm.DueMs));
            await ReleaseAsync(alarm, cancellationToken);
        }
    }

    private async Task ReleaseAsync(ClaimedAlarm alarm, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _database.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("""
                UPDATE berth_alarms SET claimed_by = NULL, claimed_until_ms = NULL
                WHERE scope = $1 AND grain_id = $2 AND claimed_by = $3 AND claimed_until_ms = $4
                """, connection)
            {
                Parameters = { new() { Value = _database.Scope }, new() { Value = alarm.GrainId }, new() { Value = NodeId }, new() { Value = alarm.ClaimedUntilMs } },
            };
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // The claim then runs out on its own after the lease.
            SchedulingLog.PollFailed(_logger, e, _options.PollInterval);
        }
    }

    private readonly record struct ClaimedAlarm(string GrainId, long DueMs, long ClaimedUntilMs);
}

/// <summary>This node's name in <c>berth_alarms.armed_by</c>, <c>claimed_by</c> and the liveness rows: the silo's address and generation, so a restarted node is a new one.</summary>
/// <param name="Id">The node's id in the scheduling tables.</param>
internal sealed record SchedulingNode(string Id);

/// <summary>
/// Holds a durable object's grain call until the alarm index changes it made are in <c>berth_alarms</c>: an alarm set in a call
/// is known to every node before the caller sees the result, so it fires even if this node dies right after.
/// </summary>
internal sealed class AlarmIndexWriteFilter(PostgresAlarmIndex index) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        await context.Invoke();
        if (index.HasPendingWrites)
        {
            await index.WhenWrittenAsync(context.TargetId.ToString());
        }
    }
}
