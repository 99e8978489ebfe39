using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Berth.Cluster.Cron;

/// <summary>
/// Cron claims in <c>berth_cron_claims</c>: the first node to insert (trigger, occurrence) fires it (<c>INSERT ... ON CONFLICT
/// DO NOTHING</c>); claims older than <see cref="ClusterSchedulingOptions.CronClaimRetention"/> are pruned, by whichever node
/// claims, at most once per tenth of the retention.
/// </summary>
internal sealed class PostgresCronClaims(
    SchedulingDatabase database,
    SchedulingNode node,
    IOptions<ClusterSchedulingOptions> options,
    TimeProvider time,
    ILogger<PostgresCronClaims> logger) : ICronOccurrenceClaims
{
    private readonly TimeSpan _retention = options.Value.CronClaimRetention;
    private long _nextPruneMs = long.MinValue;

    public async Task<bool> TryClaimAsync(string triggerKey, DateTimeOffset occurrence, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(triggerKey);
        var now = time.GetUtcNow();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            INSERT INTO berth_cron_claims (scope, trigger_key, occurrence_ms, node_id, claimed_at_ms) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (scope, trigger_key, occurrence_ms) DO NOTHING
            """, connection)
        {
            Parameters =
            {
                new() { Value = database.Scope },
                new() { Value = triggerKey },
                new() { Value = occurrence.ToUnixTimeMilliseconds() },
                new() { Value = node.Id },
                new() { Value = now.ToUnixTimeMilliseconds() },
            },
        };
        var won = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        SchedulingLog.CronClaim(logger, triggerKey, occurrence, won ? "won, firing here" : "taken by another node");
        await PruneIfDueAsync(connection, now, cancellationToken);
        return won;
    }

    private async Task PruneIfDueAsync(NpgsqlConnection connection, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var next = Interlocked.Read(ref _nextPruneMs);
        if (nowMs < next || Interlocked.CompareExchange(ref _nextPruneMs, nowMs + (long)(_retention.TotalMilliseconds / 10), next) != next)
        {
            return;
        }

        var cutoff = now - _retention;
        await using var command = new NpgsqlCommand("DELETE FROM berth_cron_claims WHERE scope = $1 AND occurrence_ms < $2", connection)
        {
            Parameters = { new() { Value = database.Scope }, new() { Value = cutoff.ToUnixTimeMilliseconds() } },
        };
        var pruned = await command.ExecuteNonQueryAsync(cancellationToken);
        SchedulingLog.CronPruned(logger, pruned, cutoff);
    }
}
