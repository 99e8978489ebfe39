using Npgsql;
using NpgsqlTypes;

namespace Berth.Replication;

/// <summary>The head of an object's history in PostgreSQL.</summary>
/// <param name="Position">The last shipped point.</param>
/// <param name="RestoreTo">A point the next activation restores to (asked by OnNextSessionRestoreBookmarkAsync), or null.</param>
internal readonly record struct StorageHead(Bookmark Position, Bookmark? RestoreTo);

/// <summary>
/// The cluster's durable store of object storage in PostgreSQL: tables <c>berth_storage_heads</c> (one row per object: last shipped point
/// and owning activation, the fencing compare-and-set), <c>berth_storage_snapshots</c> + <c>berth_storage_snapshot_chunks</c>
/// (whole databases, one per generation) and <c>berth_storage_frames</c> (the write-ahead-log frames shipped after each snapshot).
/// Every row carries a <c>scope</c> (the Orleans service id, as the alarm tables do), first in every primary key: a store reads
/// and writes only its own scope's rows, so services that share a database never share an object's storage.
/// </summary>
internal sealed class ReplicationStore : IAsyncDisposable
{
    /// <summary>Snapshot chunk size: 8 MiB per row.</summary>
    public const int ChunkBytes = 8 * 1024 * 1024;

    /// <summary>
    /// The scope of rows written before storage was scoped (the column's default): they belong to whichever service first
    /// attaches their object (<see cref="ClaimAsync"/>). A real scope is never empty.
    /// </summary>
    internal const string Unscoped = "";

    // The tables in their current shape; tables created before the scope column existed are reshaped by Migration.
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS berth_storage_heads (
            scope text NOT NULL DEFAULT '',
            object_key text NOT NULL,
            generation bigint NOT NULL,
            seq bigint NOT NULL,
            owner uuid NOT NULL,
            restore_generation bigint NULL,
            restore_seq bigint NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (scope, object_key));
        CREATE TABLE IF NOT EXISTS berth_storage_snapshots (
            scope text NOT NULL DEFAULT '',
            object_key text NOT NULL,
            generation bigint NOT NULL,
            created_at timestamptz NOT NULL,
            page_size integer NOT NULL,
            size_bytes bigint NOT NULL,
            PRIMARY KEY (scope, object_key, generation));
        CREATE TABLE IF NOT EXISTS berth_storage_snapshot_chunks (
            scope text NOT NULL DEFAULT '',
            object_key text NOT NULL,
            generation bigint NOT NULL,
            chunk integer NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (scope, object_key, generation, chunk));
        CREATE TABLE IF NOT EXISTS berth_storage_frames (
            scope text NOT NULL DEFAULT '',
            object_key text NOT NULL,
            generation bigint NOT NULL,
            seq bigint NOT NULL,
            committed_at timestamptz NOT NULL,
            frames bytea NOT NULL,
            PRIMARY KEY (scope, object_key, generation, seq));
        """;

    // Tables of the unscoped shape (primary keys without scope) get the column, their rows the unscoped default, and the key
    // scope in front; the whole migration commits or not at all (PostgreSQL DDL is transactional), once, under the schema lock.
    private const string Migration = """
        DO $$
        DECLARE t text;
        BEGIN
            FOREACH t IN ARRAY ARRAY['berth_storage_heads', 'berth_storage_snapshots', 'berth_storage_snapshot_chunks', 'berth_storage_frames'] LOOP
                IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = t AND column_name = 'scope') THEN
                    EXECUTE format('ALTER TABLE %I ADD COLUMN scope text NOT NULL DEFAULT %L', t, '');
                    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, t || '_pkey');
                    EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (%s)', t, CASE t
                        WHEN 'berth_storage_heads' THEN 'scope, object_key'
                        WHEN 'berth_storage_snapshots' THEN 'scope, object_key, generation'
                        WHEN 'berth_storage_snapshot_chunks' THEN 'scope, object_key, generation, chunk'
                        ELSE 'scope, object_key, generation, seq' END);
                END IF;
            END LOOP;
        END $$;
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly Lock _schemaLock = new();
    private readonly string _scope;
    private Task? _schema;

    /// <summary>Creates the store of one service on the cluster's database.</summary>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="scope">The service's scope: the Orleans service id (<c>ClusterOptions.ServiceId</c>); not empty or blank.</param>
    /// <exception cref="ArgumentException"><paramref name="scope"/> is empty or blank.</exception>
    public ReplicationStore(string connectionString, string scope)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _scope = scope;
    }

    /// <summary>Gets the value of this store's rows' <c>scope</c> column.</summary>
    public string Scope => _scope;

    /// <summary>Creates the tables once per process (idempotent, safe when several nodes start at once).</summary>
    public Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        lock (_schemaLock)
        {
            // A failed attempt (PostgreSQL unreachable) is retried by the next caller.
            if (_schema is null || _schema.IsFaulted || _schema.IsCanceled)
            {
                _schema = CreateSchemaAsync(CancellationToken.None);
            }

            return _schema.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Makes <paramref name="owner"/> the object's only writer (creating its head at generation 0 when new) and returns the head.
    /// An object this scope has no head for but whose rows are unscoped (written before storage was scoped) is adopted first:
    /// all its rows move to this scope in one statement, so the first service to attach it after the upgrade keeps its history.
    /// </summary>
    public async Task<StorageHead> ClaimAsync(string key, Guid owner, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken);

        // One round trip: Npgsql sends a batch as one implicit transaction. A concurrent adopter blocks on the unscoped head's
        // row lock and then finds it moved (READ COMMITTED re-checks the row), so an object is adopted once.
        await using var batch = _dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            WITH adopted AS (
                UPDATE berth_storage_heads SET scope = $2
                WHERE scope = $3 AND object_key = $1
                  AND NOT EXISTS (SELECT 1 FROM berth_storage_heads WHERE scope = $2 AND object_key = $1)
                RETURNING object_key),
            snapshots AS (UPDATE berth_storage_snapshots SET scope = $2 WHERE scope = $3 AND object_key IN (SELECT object_key FROM adopted)),
            chunks AS (UPDATE berth_storage_snapshot_chunks SET scope = $2 WHERE scope = $3 AND object_key IN (SELECT object_key FROM adopted)),
            frames AS (UPDATE berth_storage_frames SET scope = $2 WHERE scope = $3 AND object_key IN (SELECT object_key FROM adopted))
            SELECT count(*) FROM adopted
            """)
        {
            Parameters = { new() { Value = key }, new() { Value = _scope }, new() { Value = Unscoped } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO berth_storage_heads (scope, object_key, generation, seq, owner, updated_at) VALUES ($1, $2, 0, 0, $3, $4)
            ON CONFLICT (scope, object_key) DO UPDATE SET owner = excluded.owner, updated_at = excluded.updated_at
            RETURNING generation, seq, restore_generation, restore_seq
            """)
        {
            Parameters =
            {
                new() { Value = _scope },
                new() { Value = key },
                new() { Value = owner },
                new() { Value = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            },
        });
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken); // past the adoption's count
        await reader.ReadAsync(cancellationToken);
        var position = new Bookmark(reader.GetInt64(0), reader.GetInt64(1));
        Bookmark? restore = reader.IsDBNull(2) ? null : new Bookmark(reader.GetInt64(2), reader.GetInt64(3));
        return new StorageHead(position, restore);
    }

    /// <summary>Appends one shipment after <paramref name="previous"/>, only while <paramref name="owner"/> owns the object and the head is still there.</summary>
    /// <returns><see langword="false"/> when fenced: another activation owns the object or has shipped since.</returns>
    public async Task<bool> AppendAsync(string key, Guid owner, Bookmark previous, byte[] frames, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            WITH head AS (
                UPDATE berth_storage_heads SET seq = $4 + 1, updated_at = $5
                WHERE scope = $7 AND object_key = $1 AND owner = $2 AND generation = $3 AND seq = $4
                RETURNING 1)
            INSERT INTO berth_storage_frames (scope, object_key, generation, seq, committed_at, frames)
            SELECT $7, $1, $3, $4 + 1, $5, $6 FROM head
            """);
        command.Parameters.Add(new() { Value = key });
        command.Parameters.Add(new() { Value = owner });
        command.Parameters.Add(new() { Value = previous.Generation });
        command.Parameters.Add(new() { Value = previous.Sequence });
        command.Parameters.Add(new() { Value = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = frames, NpgsqlDbType = NpgsqlDbType.Bytea });
        command.Parameters.Add(new() { Value = _scope });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// Starts generation <c>previous.Generation + 1</c> with the database file <paramref name="database"/> as its snapshot, only while
    /// <paramref name="owner"/> owns the object and the head is <paramref name="previous"/>; clears any pending restore request.
    /// </summary>
    /// <returns><see langword="false"/> when fenced.</returns>
    public async Task<bool> StartGenerationAsync(string key, Guid owner, Bookmark previous, Stream database, int pageSize, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var generation = previous.Generation + 1;
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var head = new NpgsqlCommand("""
            UPDATE berth_storage_heads SET generation = $4, seq = 0, restore_generation = NULL, restore_seq = NULL, updated_at = $5
            WHERE scope = $7 AND object_key = $1 AND owner = $2 AND generation = $3 AND seq = $6
            """, connection, transaction))
        {
            head.Parameters.Add(new() { Value = key });
            head.Parameters.Add(new() { Value = owner });
            head.Parameters.Add(new() { Value = previous.Generation });
            head.Parameters.Add(new() { Value = generation });
            head.Parameters.Add(new() { Value = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            head.Parameters.Add(new() { Value = previous.Sequence });
            head.Parameters.Add(new() { Value = _scope });
            if (await head.ExecuteNonQueryAsync(cancellationToken) != 1)
            {
                return false;
            }
        }

        // A generation number abandoned by a failed start may have left rows: a new start replaces them.
        foreach (var table in (string[])["berth_storage_frames", "berth_storage_snapshot_chunks", "berth_storage_snapshots"])
        {
            await using var clear = new NpgsqlCommand($"DELETE FROM {table} WHERE scope = $3 AND object_key = $1 AND generation >= $2", connection, transaction);
            clear.Parameters.Add(new() { Value = key });
            clear.Parameters.Add(new() { Value = generation });
            clear.Parameters.Add(new() { Value = _scope });
            await clear.ExecuteNonQueryAsync(cancellationToken);
        }

        var buffer = new byte[ChunkBytes];
        long size = 0;
        for (var chunk = 0; ; chunk++)
        {
            var read = await ReadFullAsync(database, buffer, cancellationToken);
            if (read == 0 && chunk > 0)
            {
                break;
            }

            await using var insert = new NpgsqlCommand(
                "INSERT INTO berth_storage_snapshot_chunks (scope, object_key, generation, chunk, data) VALUES ($5, $1, $2, $3, $4)", connection, transaction);
            insert.Parameters.Add(new() { Value = key });
            insert.Parameters.Add(new() { Value = generation });
            insert.Parameters.Add(new() { Value = chunk });
            insert.Parameters.Add(new() { Value = new ReadOnlyMemory<byte>(buffer, 0, read), NpgsqlDbType = NpgsqlDbType.Bytea });
            insert.Parameters.Add(new() { Value = _scope });
            await insert.ExecuteNonQueryAsync(cancellationToken);
            size += read;
            if (read < buffer.Length)
            {
                break;
            }
        }

        await using (var snapshot = new NpgsqlCommand(
            "INSERT INTO berth_storage_snapshots (scope, object_key, generation, created_at, page_size, size_bytes) VALUES ($6, $1, $2, $3, $4, $5)", connection, transaction))
        {
            snapshot.Parameters.Add(new() { Value = key });
            snapshot.Parameters.Add(new() { Value = generation });
            snapshot.Parameters.Add(new() { Value = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            snapshot.Parameters.Add(new() { Value = pageSize });
            snapshot.Parameters.Add(new() { Value = size });
            snapshot.Parameters.Add(new() { Value = _scope });
            await snapshot.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Writes the database as it was at <paramref name="point"/> to <paramref name="database"/> (an empty, writable file).</summary>
    /// <exception cref="ArgumentException">The point is no longer (or never was) in the store.</exception>
    public async Task RestoreAsync(string key, Bookmark point, FileStream database, CancellationToken cancellationToken)
    {
        if (point.Generation == 0)
        {
            return; // the empty database before the first write
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        int pageSize;
        await using (var snapshot = new NpgsqlCommand("SELECT page_size FROM berth_storage_snapshots WHERE scope = $3 AND object_key = $1 AND generation = $2", connection, transaction))
        {
            snapshot.Parameters.Add(new() { Value = key });
            snapshot.Parameters.Add(new() { Value = point.Generation });
            snapshot.Parameters.Add(new() { Value = _scope });
            pageSize = await snapshot.ExecuteScalarAsync(cancellationToken) is int size
                ? size
                : throw new ArgumentException($"The bookmark {point} of '{key}' is outside the retained history.", nameof(point));
        }

        await using (var chunks = new NpgsqlCommand("SELECT data FROM berth_storage_snapshot_chunks WHERE scope = $3 AND object_key = $1 AND generation = $2 ORDER BY chunk", connection, transaction))
        {
            chunks.Parameters.Add(new() { Value = key });
            chunks.Parameters.Add(new() { Value = point.Generation });
            chunks.Parameters.Add(new() { Value = _scope });
            await using var reader = await chunks.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                await using var data = await reader.GetStreamAsync(0, cancellationToken);
                await data.CopyToAsync(database, cancellationToken);
            }
        }

        long count = 0;
        await using (var frames = new NpgsqlCommand(
            "SELECT frames FROM berth_storage_frames WHERE scope = $4 AND object_key = $1 AND generation = $2 AND seq <= $3 ORDER BY seq", connection, transaction))
        {
            frames.Parameters.Add(new() { Value = key });
            frames.Parameters.Add(new() { Value = point.Generation });
            frames.Parameters.Add(new() { Value = point.Sequence });
            frames.Parameters.Add(new() { Value = _scope });
            await using var reader = await frames.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                WalFile.Apply(database, reader.GetFieldValue<byte[]>(0), pageSize);
                count++;
            }
        }

        if (count != point.Sequence)
        {
            throw new ArgumentException($"The bookmark {point} of '{key}' is outside the retained history.", nameof(point));
        }

        await database.FlushAsync(cancellationToken);
    }

    /// <summary>Gets the last point of the object's history shipped at or before <paramref name="time"/>, or null when there is none.</summary>
    public async Task<Bookmark?> PointAtAsync(string key, DateTimeOffset time, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            SELECT generation, seq FROM (
                SELECT generation, seq FROM berth_storage_frames WHERE scope = $3 AND object_key = $1 AND committed_at <= $2
                UNION ALL
                SELECT generation, 0 FROM berth_storage_snapshots WHERE scope = $3 AND object_key = $1 AND created_at <= $2) points
            ORDER BY generation DESC, seq DESC LIMIT 1
            """);
        command.Parameters.Add(new() { Value = key });
        command.Parameters.Add(new() { Value = time.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = _scope });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new Bookmark(reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    /// <summary>Gets the oldest generation still stored for the object, or null when it has none.</summary>
    public async Task<long?> OldestGenerationAsync(string key, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT min(generation) FROM berth_storage_snapshots WHERE scope = $2 AND object_key = $1");
        command.Parameters.Add(new() { Value = key });
        command.Parameters.Add(new() { Value = _scope });
        return await command.ExecuteScalarAsync(cancellationToken) is long generation ? generation : null;
    }

    /// <summary>Tells whether <paramref name="point"/> can still be restored.</summary>
    public async Task<bool> ContainsAsync(string key, Bookmark point, CancellationToken cancellationToken)
    {
        if (point.Generation == 0)
        {
            return point.Sequence == 0 && await OldestGenerationAsync(key, cancellationToken) is null or 1;
        }

        await using var command = _dataSource.CreateCommand("""
            SELECT EXISTS (SELECT 1 FROM berth_storage_snapshots WHERE scope = $4 AND object_key = $1 AND generation = $2)
               AND ($3 = 0 OR EXISTS (SELECT 1 FROM berth_storage_frames WHERE scope = $4 AND object_key = $1 AND generation = $2 AND seq = $3))
            """);
        command.Parameters.Add(new() { Value = key });
        command.Parameters.Add(new() { Value = point.Generation });
        command.Parameters.Add(new() { Value = point.Sequence });
        command.Parameters.Add(new() { Value = _scope });
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    /// <summary>Records that the object's next activation restores to <paramref name="point"/>, only while <paramref name="owner"/> owns it.</summary>
    /// <returns><see langword="false"/> when fenced.</returns>
    public async Task<bool> RequestRestoreAsync(string key, Guid owner, Bookmark point, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            UPDATE berth_storage_heads SET restore_generation = $3, restore_seq = $4, updated_at = $5 WHERE scope = $6 AND object_key = $1 AND owner = $2
            """);
        command.Parameters.Add(new() { Value = key });
        command.Parameters.Add(new() { Value = owner });
        command.Parameters.Add(new() { Value = point.Generation });
        command.Parameters.Add(new() { Value = point.Sequence });
        command.Parameters.Add(new() { Value = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = _scope });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// Deletes history no restore inside the window can need: for each object, every generation older than its newest snapshot taken
    /// at or before <paramref name="cutoff"/>. Returns the number of rows deleted. Only this scope's objects: another service on the
    /// database prunes its own with its own retention, and unscoped rows wait for the service that adopts them.
    /// </summary>
    public async Task<long> PruneAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken);
        long deleted = 0;
        foreach (var table in (string[])["berth_storage_frames", "berth_storage_snapshot_chunks", "berth_storage_snapshots"])
        {
            await using var command = _dataSource.CreateCommand($"""
                WITH keep AS (
                    SELECT object_key, max(generation) AS generation FROM berth_storage_snapshots WHERE scope = $2 AND created_at <= $1 GROUP BY object_key)
                DELETE FROM {table} t USING keep WHERE t.scope = $2 AND t.object_key = keep.object_key AND t.generation < keep.generation
                """);
            command.Parameters.Add(new() { Value = cutoff.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new() { Value = _scope });
            deleted += await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return deleted;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private static async Task<int> ReadFullAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    private async Task CreateSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('berth_storage_schema'))", connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        // CREATE TABLE IF NOT EXISTS leaves a table of the unscoped shape as it is: the migration after it reshapes that.
        await using (var command = new NpgsqlCommand(Schema + Migration, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
