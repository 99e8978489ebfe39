using Npgsql;

namespace Berth.Cluster;

/// <summary>
/// The cluster database as the scheduling pieces use it: one <see cref="NpgsqlDataSource"/>, a scope (the Orleans service id,
/// so that two services can share a database), and the <c>berth_alarms</c>, <c>berth_alarm_nodes</c> and <c>berth_cron_claims</c>
/// tables, created once per process under a transaction-scoped advisory lock (three nodes starting at once create them once).
/// </summary>
internal sealed class SchedulingDatabase : IAsyncDisposable, IDisposable
{
    // pg_advisory_xact_lock key for the schema: "berthsch" as a big-endian 64-bit integer.
    private const long SchemaLockKey = 0x6265_7274_6873_6368;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS berth_alarms (
            scope            text   NOT NULL,
            grain_id         text   NOT NULL,
            due_ms           bigint NOT NULL,
            armed_by         text   NOT NULL,
            claimed_by       text,
            claimed_until_ms bigint,
            PRIMARY KEY (scope, grain_id));
        CREATE INDEX IF NOT EXISTS berth_alarms_due ON berth_alarms (scope, due_ms);
        CREATE TABLE IF NOT EXISTS berth_alarm_nodes (
            scope        text   NOT NULL,
            node_id      text   NOT NULL,
            heartbeat_ms bigint NOT NULL,
            PRIMARY KEY (scope, node_id));
        CREATE TABLE IF NOT EXISTS berth_cron_claims (
            scope         text   NOT NULL,
            trigger_key   text   NOT NULL,
            occurrence_ms bigint NOT NULL,
            node_id       text   NOT NULL,
            claimed_at_ms bigint NOT NULL,
            PRIMARY KEY (scope, trigger_key, occurrence_ms));
        CREATE INDEX IF NOT EXISTS berth_cron_claims_occurrence ON berth_cron_claims (scope, occurrence_ms);
        """;

    private readonly SemaphoreSlim _schemaLock = new(1, 1);
    private volatile bool _schemaReady;

    public SchedulingDatabase(string connectionString, string scope)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        DataSource = NpgsqlDataSource.Create(connectionString);
        Scope = scope;
    }

    public NpgsqlDataSource DataSource { get; }

    /// <summary>Gets the value of every row's <c>scope</c> column: rows of other scopes are never read or written.</summary>
    public string Scope { get; }

    /// <summary>Opens a connection, creating the tables first if this process has not yet.</summary>
    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken);
        return await DataSource.OpenConnectionAsync(cancellationToken);
    }

    /// <summary>Creates the tables if they do not exist; safe when several nodes start at once. Retried on the next call after a failure.</summary>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        if (_schemaReady)
        {
            return;
        }

        await _schemaLock.WaitAsync(cancellationToken);
        try
        {
            if (_schemaReady)
            {
                return;
            }

            await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
            {
                command.Parameters.AddWithValue("key", SchemaLockKey);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var command = new NpgsqlCommand(Schema, connection, transaction))
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            _schemaReady = true;
        }
        finally
        {
            _schemaLock.Release();
        }
    }

    public void Dispose()
    {
        DataSource.Dispose();
        _schemaLock.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        _schemaLock.Dispose();
    }
}
