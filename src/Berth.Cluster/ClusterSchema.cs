using System.Reflection;
using Npgsql;

namespace Berth.Cluster;

/// <summary>
/// Creates the tables a cluster's membership needs in its PostgreSQL database (Orleans' membership tables and queries,
/// and <c>berth_nodes</c>), idempotently: every node runs it at start, in one transaction under an advisory lock, so nodes
/// that start together neither fail nor duplicate anything.
/// </summary>
public static class ClusterSchema
{
    /// <summary>The key of the transaction-scoped advisory lock the schema is applied under.</summary>
    public const long AdvisoryLockKey = 0x4265727468_0001; // "Berth", 1

    private const string ScriptName = "Berth.Cluster.Sql.orleans-clustering.postgres.sql";

    private const string GatewaysScriptName = "Berth.Cluster.Sql.node-gateways.postgres.sql";

    /// <summary>The script, as embedded in this assembly (the node gateways' tables appended).</summary>
    internal static string Script { get; } = ReadScript(ScriptName) + Environment.NewLine + ReadScript(GatewaysScriptName);

    /// <summary>Applies the schema to the database <paramref name="connectionString"/> names.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="cancellationToken">Cancels the connection and the script (the transaction then rolls back).</param>
    /// <exception cref="NpgsqlException">PostgreSQL cannot be reached or refused the script.</exception>
    public static async Task ApplyAsync(string connectionString, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("key", AdvisoryLockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var script = new NpgsqlCommand(Script, connection, transaction))
        {
            await script.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Records (or refreshes) this node's row in <c>berth_nodes</c>.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="clusterId">The cluster ID.</param>
    /// <param name="nodeId">The node's ID.</param>
    /// <param name="location">The node's location label (empty: none).</param>
    /// <param name="siloAddress">The node's silo endpoint, <c>address:port</c>.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="NpgsqlException">PostgreSQL cannot be reached or refused the write.</exception>
    public static async Task RegisterNodeAsync(string connectionString, string clusterId, string nodeId, string location, string siloAddress, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO berth_nodes (cluster_id, node_id, location, silo_address, started_at)
            VALUES (@cluster, @node, @location, @silo, now())
            ON CONFLICT (cluster_id, node_id) DO UPDATE SET location = EXCLUDED.location, silo_address = EXCLUDED.silo_address, started_at = now()
            """, connection);
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("node", nodeId);
        command.Parameters.AddWithValue("location", location);
        command.Parameters.AddWithValue("silo", siloAddress);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string ReadScript(string name)
    {
        using var stream = typeof(ClusterSchema).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded resource {name} is missing from {typeof(ClusterSchema).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
