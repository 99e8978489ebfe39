using Npgsql;
using Orleans.Runtime;

namespace Berth.Cluster.Failover;

/// <summary>How a claim on a dead silo's containers went.</summary>
internal enum DeadNodeClaim
{
    /// <summary>This node holds the claim and acts.</summary>
    Won,

    /// <summary>Another survivor holds an unexpired claim; try again once it has expired.</summary>
    HeldByOther,

    /// <summary>A survivor already finished with this silo.</summary>
    Done,
}

/// <summary>
/// The cluster database as the dead-node cleanup uses it: each node's engine ID in <c>berth_nodes</c>, the Orleans membership
/// table to tell whether a node ID has a live silo, and the per-silo claims in <c>berth_node_cleanups</c>. The tables are
/// created by <see cref="ClusterSchema"/> before the silo starts.
/// </summary>
internal sealed class DeadNodeStore(string connectionString, string clusterId) : IAsyncDisposable
{
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);

    /// <summary>Records the engine node <paramref name="nodeId"/> runs its containers on.</summary>
    public async Task RecordEngineAsync(string nodeId, string engineId, CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand("UPDATE berth_nodes SET engine_id = @engine WHERE cluster_id = @cluster AND node_id = @node");
        command.Parameters.AddWithValue("engine", engineId);
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("node", nodeId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The engine node <paramref name="nodeId"/> last recorded, or the empty string when it recorded none.</summary>
    public async Task<string> EngineOfAsync(string nodeId, CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand("SELECT engine_id FROM berth_nodes WHERE cluster_id = @cluster AND node_id = @node");
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("node", nodeId);
        return await command.ExecuteScalarAsync(cancellationToken) as string ?? "";
    }

    /// <summary>
    /// Whether the membership table lists a silo named <paramref name="nodeId"/> that is not dead: the node came back (or its
    /// restart is joining), so its own reconciler owns its containers. Read from the table, not this node's membership view,
    /// which can lag it.
    /// </summary>
    public async Task<bool> HasLiveSiloAsync(string nodeId, CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand(
            "SELECT EXISTS (SELECT 1 FROM OrleansMembershipTable WHERE DeploymentId = @cluster AND SiloName = @node AND Status <> @dead)");
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("node", nodeId);
        command.Parameters.AddWithValue("dead", (int)SiloStatus.Dead);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    /// <summary>
    /// Claims dead silo <paramref name="silo"/> for <paramref name="claimant"/> until <paramref name="lease"/> from now: one
    /// <c>INSERT … ON CONFLICT</c> that wins when there is no row, or an unfinished one whose lease has passed.
    /// </summary>
    public async Task<DeadNodeClaim> TryClaimAsync(string silo, string nodeId, string claimant, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand(
            """
            WITH claim AS (
                INSERT INTO berth_node_cleanups (cluster_id, silo, node_id, claimed_by, claimed_until)
                VALUES (@cluster, @silo, @node, @claimant, now() + @lease)
                ON CONFLICT (cluster_id, silo) DO UPDATE SET claimed_by = EXCLUDED.claimed_by, claimed_until = EXCLUDED.claimed_until
                WHERE berth_node_cleanups.done_at IS NULL AND berth_node_cleanups.claimed_until < now()
                RETURNING 1)
            SELECT CASE
                WHEN EXISTS (SELECT 1 FROM claim) THEN 0
                WHEN EXISTS (SELECT 1 FROM berth_node_cleanups WHERE cluster_id = @cluster AND silo = @silo AND done_at IS NOT NULL) THEN 2
                ELSE 1 END
            """);
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("silo", silo);
        command.Parameters.AddWithValue("node", nodeId);
        command.Parameters.AddWithValue("claimant", claimant);
        command.Parameters.AddWithValue("lease", lease);
        return (DeadNodeClaim)(int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Marks the claim on <paramref name="silo"/> finished, adding <paramref name="removed"/> to the containers removed so far.</summary>
    public async Task CompleteAsync(string silo, string claimant, int removed, CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand(
            "UPDATE berth_node_cleanups SET done_at = now(), removed = removed + @removed WHERE cluster_id = @cluster AND silo = @silo AND claimed_by = @claimant");
        command.Parameters.AddWithValue("removed", removed);
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("silo", silo);
        command.Parameters.AddWithValue("claimant", claimant);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Gives up an unfinished claim at once, so that any survivor (this one included) can take it on its next pass, adding
    /// <paramref name="removed"/> (what this attempt removed before it failed) to the containers removed so far.
    /// </summary>
    public async Task ReleaseAsync(string silo, string claimant, int removed, CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand(
            "UPDATE berth_node_cleanups SET claimed_until = now(), removed = removed + @removed WHERE cluster_id = @cluster AND silo = @silo AND claimed_by = @claimant AND done_at IS NULL");
        command.Parameters.AddWithValue("removed", removed);
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("silo", silo);
        command.Parameters.AddWithValue("claimant", claimant);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}
