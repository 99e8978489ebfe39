namespace Berth.Cluster.Cron;

/// <summary>
/// Decides which node of a cluster fires an occurrence of a cron trigger, so that each occurrence fires once for the cluster
/// rather than once per node. The cron service asks before every firing and fires only when it wins. Registered by
/// <c>AddBerthClusterScheduling</c> (PostgreSQL); absent on a single node, where every occurrence fires.
/// </summary>
/// <remarks>
/// At most once: a node that wins an occurrence and dies before (or while) running it loses that occurrence; no other node
/// replays it, and the next occurrence fires on a survivor. This matches the single-node rule that occurrences missed while
/// the host was down are not replayed.
/// </remarks>
public interface ICronOccurrenceClaims
{
    /// <summary>Claims <paramref name="occurrence"/> of the trigger <paramref name="triggerKey"/> for this node.</summary>
    /// <param name="triggerKey">The trigger's name, the same on every node that runs the same app (for example <c>code/0/*/5 * * * *</c>).</param>
    /// <param name="occurrence">The occurrence's scheduled time (UTC, whole minutes for five-field crons); every node computes the same one.</param>
    /// <param name="cancellationToken">Cancels the claim.</param>
    /// <returns><see langword="true"/> when this node won and must fire; <see langword="false"/> when another node already has it.</returns>
    /// <exception cref="Npgsql.NpgsqlException">The database cannot be reached; the caller skips the occurrence (never fires it unclaimed).</exception>
    Task<bool> TryClaimAsync(string triggerKey, DateTimeOffset occurrence, CancellationToken cancellationToken);
}
