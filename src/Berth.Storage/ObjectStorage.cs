using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Berth.Storage;

/// <summary>
/// The storage of one durable object: a SQLite database file (WAL) with a key-value API, a SQL API
/// (<see cref="Sql"/>) on the same database, and the object's persisted alarm.
/// </summary>
/// <remarks>
/// Every call is synchronous and completes before it returns, so inside an object's turn no other
/// request interleaves with a storage operation. An instance is not thread-safe: it has one owner.
/// </remarks>
public sealed class ObjectStorage : IDisposable
{
    internal const string ReservedPrefix = "_berth_";

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS _berth_kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _berth_alarm (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            time_ms INTEGER NOT NULL,
            scheduled_ms INTEGER NOT NULL,
            retry_count INTEGER NOT NULL);
        """;

    private readonly SqliteConnection _connection;
    private readonly JsonSerializerOptions _json;
    private readonly SqliteCommand _get;
    private readonly SqliteCommand _put;
    private readonly SqliteCommand _delete;
    private int _transactionDepth;
    private bool _disposed;

    private ObjectStorage(string filePath, SqliteConnection connection, ObjectStorageOptions options)
    {
        FilePath = filePath;
        MaxSizeBytes = options.MaxSizeBytes;
        AutomaticCheckpoints = options.AutomaticCheckpoints;
        _connection = connection;
        _json = options.JsonSerializerOptions;
        _get = Prepare("SELECT value FROM _berth_kv WHERE key = $key", "$key");
        _put = Prepare("INSERT INTO _berth_kv (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value", "$key", "$value");
        _delete = Prepare("DELETE FROM _berth_kv WHERE key = $key", "$key");
        Sql = new SqlStorage(this, connection);
    }

    /// <summary>Gets the database file.</summary>
    public string FilePath { get; }

    /// <summary>Gets the size limit in bytes.</summary>
    public long MaxSizeBytes { get; }

    /// <summary>Gets the SQL API, which shares this database (tables named <c>_berth_*</c> are reserved).</summary>
    public SqlStorage Sql { get; }

    /// <summary>Gets the size of the database in bytes (its pages, the write-ahead log excluded).</summary>
    public long SizeBytes => ScalarInt64("PRAGMA page_count") * ScalarInt64("PRAGMA page_size");

    internal JsonSerializerOptions JsonOptions => _json;

    /// <summary>Gets whether SQLite checkpoints the write-ahead log on its own (see <see cref="ObjectStorageOptions.AutomaticCheckpoints"/>).</summary>
    internal bool AutomaticCheckpoints { get; }

    internal bool InTransaction => _transactionDepth > 0;

    /// <summary>Opens (creating if needed) the database at <paramref name="filePath"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The limit in <paramref name="options"/> is below <see cref="ObjectStorageOptions.MinMaxSizeBytes"/>.</exception>
    public static ObjectStorage Open(string filePath, ObjectStorageOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        options ??= new ObjectStorageOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSizeBytes, ObjectStorageOptions.MinMaxSizeBytes, nameof(options));
        filePath = Path.GetFullPath(filePath);
        Directory.CreateDirectory(Path.GetDirectoryName(filePath)!);

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = filePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false, // one connection per open object, closed (file released) on dispose
        }.ToString());
        try
        {
            connection.Open();
            using (var pragmas = connection.CreateCommand())
            {
                // NORMAL in WAL mode survives a process crash (kill -9); only an OS crash may lose the last commits.
                pragmas.CommandText = options.AutomaticCheckpoints
                    ? "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                    : "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;";
                pragmas.ExecuteNonQuery();
                pragmas.CommandText = "PRAGMA page_size";
                var pageSize = Convert.ToInt64(pragmas.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
                pragmas.CommandText = $"PRAGMA max_page_count = {Math.Max(1, options.MaxSizeBytes / pageSize)}; {Schema}";
                pragmas.ExecuteNonQuery();
            }

            return new ObjectStorage(filePath, connection, options);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Gets the value stored under <paramref name="key"/>, or <see langword="default"/> when there is none.</summary>
    public T? Get<T>(string key) => TryGet<T>(key, out var value) ? value : default;

    /// <summary>Gets the value stored under <paramref name="key"/>.</summary>
    /// <returns><see langword="true"/> when the key exists.</returns>
    public bool TryGet<T>(string key, out T? value)
    {
        ThrowIfDisposed();
        _get.Parameters[0].Value = KeyBytes(key);
        using var reader = _get.ExecuteReader();
        if (!reader.Read())
        {
            value = default;
            return false;
        }

        value = JsonSerializer.Deserialize<T>(reader.GetFieldValue<byte[]>(0), _json);
        return true;
    }

    /// <summary>Gets the values of the keys that exist, in the order asked for.</summary>
    public OrderedDictionary<string, T?> Get<T>(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var found = new OrderedDictionary<string, T?>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (!found.ContainsKey(key) && TryGet<T>(key, out var value))
            {
                found.Add(key, value);
            }
        }

        return found;
    }

    /// <summary>Stores <paramref name="value"/> (as JSON) under <paramref name="key"/>, replacing any value.</summary>
    /// <exception cref="StorageLimitExceededException">The database would exceed its size limit.</exception>
    public void Put<T>(string key, T value)
    {
        ThrowIfDisposed();
        _put.Parameters[0].Value = KeyBytes(key);
        _put.Parameters[1].Value = JsonSerializer.SerializeToUtf8Bytes(value, _json);
        Write(_put);
    }

    /// <summary>Stores all <paramref name="entries"/> atomically.</summary>
    /// <exception cref="StorageLimitExceededException">The database would exceed its size limit; nothing is stored.</exception>
    public void Put<T>(IReadOnlyDictionary<string, T> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Transaction(storage =>
        {
            foreach (var (key, value) in entries)
            {
                storage.Put(key, value);
            }
        });
    }

    /// <summary>Deletes <paramref name="key"/>.</summary>
    /// <returns><see langword="true"/> when the key existed.</returns>
    public bool Delete(string key)
    {
        ThrowIfDisposed();
        _delete.Parameters[0].Value = KeyBytes(key);
        return Write(_delete) > 0;
    }

    /// <summary>Deletes all <paramref name="keys"/> atomically.</summary>
    /// <returns>The number of keys that existed.</returns>
    public int Delete(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return Transaction(storage => keys.Count(storage.Delete));
    }

    /// <summary>Lists entries in key order (UTF-8 byte order), filtered by <paramref name="options"/>.</summary>
    public OrderedDictionary<string, T?> List<T>(ListOptions? options = null)
    {
        ThrowIfDisposed();
        options ??= new ListOptions();
        if (options.Limit is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Limit, "ListOptions.Limit must not be negative.");
        }

        using var command = _connection.CreateCommand();
        var where = new StringBuilder("1 = 1");
        if (options.Prefix is { Length: > 0 } prefix)
        {
            where.Append(" AND key >= $prefix");
            command.Parameters.AddWithValue("$prefix", KeyBytes(prefix));
            if (PrefixUpperBound(KeyBytes(prefix)) is { } upper)
            {
                where.Append(" AND key < $prefixEnd");
                command.Parameters.AddWithValue("$prefixEnd", upper);
            }
        }

        if (options.Start is not null)
        {
            where.Append(" AND key >= $start");
            command.Parameters.AddWithValue("$start", KeyBytes(options.Start));
        }

        if (options.End is not null)
        {
            where.Append(" AND key < $end");
            command.Parameters.AddWithValue("$end", KeyBytes(options.End));
        }

        command.CommandText = $"SELECT key, value FROM _berth_kv WHERE {where} ORDER BY key {(options.Reverse ? "DESC" : "ASC")} LIMIT $limit";
        command.Parameters.AddWithValue("$limit", options.Limit ?? -1);

        var entries = new OrderedDictionary<string, T?>(StringComparer.Ordinal);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            entries.Add(
                Encoding.UTF8.GetString(reader.GetFieldValue<byte[]>(0)),
                JsonSerializer.Deserialize<T>(reader.GetFieldValue<byte[]>(1), _json));
        }

        return entries;
    }

    /// <summary>Runs <paramref name="body"/> atomically: if it throws, everything it wrote is rolled back. Transactions nest.</summary>
    public void Transaction(Action<ObjectStorage> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        Transaction(storage =>
        {
            body(storage);
            return true;
        });
    }

    /// <summary>Runs <paramref name="body"/> atomically and returns its result: if it throws, everything it wrote is rolled back. Transactions nest.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="body"/> returned a task: transactions are synchronous.</exception>
    public T Transaction<T>(Func<ObjectStorage, T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ThrowIfDisposed();
        var savepoint = $"berth_tx_{_transactionDepth}";
        Execute($"SAVEPOINT {savepoint}");
        _transactionDepth++;
        T result;
        try
        {
            result = body(this);
            if (result is Task)
            {
                // An async body would commit before its awaited writes ran.
                throw new InvalidOperationException("A storage transaction body must be synchronous; it returned a Task.");
            }
        }
        catch
        {
            _transactionDepth--;
            RollBack(savepoint);
            throw;
        }

        _transactionDepth--;
        try
        {
            Execute($"RELEASE {savepoint}");
        }
        catch
        {
            RollBack(savepoint);
            throw;
        }

        return result;
    }

    /// <summary>Deletes every key-value entry and every SQL table, view and trigger, then shrinks the file. The alarm is kept.</summary>
    public void DeleteAll()
    {
        ThrowIfDisposed();
        Transaction(_ =>
        {
            var objects = new List<(string Type, string Name)>();
            using (var command = _connection.CreateCommand())
            {
                // Views and triggers first: they may depend on tables. Indexes go with their tables.
                command.CommandText = """
                    SELECT type, name FROM sqlite_schema
                    WHERE type IN ('view', 'trigger', 'table')
                      AND name NOT LIKE '\_berth\_%' ESCAPE '\' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
                    ORDER BY type = 'table'
                    """;
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    objects.Add((reader.GetString(0), reader.GetString(1)));
                }
            }

            foreach (var (type, name) in objects)
            {
                Execute($"DROP {type.ToUpperInvariant()} IF EXISTS \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"");
            }

            Execute("DELETE FROM _berth_kv");
        });

        if (!InTransaction)
        {
            // Without automatic checkpoints the log belongs to its shipper (cluster storage), which checkpoints it itself.
            Execute(AutomaticCheckpoints ? "VACUUM; PRAGMA wal_checkpoint(TRUNCATE)" : "VACUUM");
        }
    }

    /// <summary>Gets the time the persisted alarm is due, or <see langword="null"/>.</summary>
    public DateTimeOffset? GetAlarm() => GetAlarmRecord()?.Time;

    /// <summary>Gets the persisted alarm with its retry state, or <see langword="null"/>.</summary>
    public StoredAlarm? GetAlarmRecord()
    {
        ThrowIfDisposed();
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT time_ms, scheduled_ms, retry_count FROM _berth_alarm WHERE id = 1";
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new StoredAlarm(
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                reader.GetInt32(2))
            : null;
    }

    /// <summary>Persists an alarm due at <paramref name="time"/> (millisecond precision), replacing any other.</summary>
    /// <remarks>This only records the alarm; inside a durable object use the context's <c>SetAlarm</c>, which also schedules delivery.</remarks>
    public void SetAlarm(DateTimeOffset time) => SetAlarm(new StoredAlarm(time, time, 0));

    /// <summary>Persists <paramref name="alarm"/>, replacing any other.</summary>
    public void SetAlarm(StoredAlarm alarm)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(alarm.RetryCount, nameof(alarm));
        using var command = _connection.CreateCommand();
        command.CommandText = "INSERT OR REPLACE INTO _berth_alarm (id, time_ms, scheduled_ms, retry_count) VALUES (1, $time, $scheduled, $retry)";
        command.Parameters.AddWithValue("$time", alarm.Time.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$scheduled", alarm.ScheduledTime.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$retry", alarm.RetryCount);
        Write(command);
    }

    /// <summary>Deletes the persisted alarm.</summary>
    /// <returns><see langword="true"/> when there was one.</returns>
    public bool DeleteAlarm()
    {
        ThrowIfDisposed();
        using var command = _connection.CreateCommand();
        command.CommandText = "DELETE FROM _berth_alarm";
        return Write(command) > 0;
    }

    /// <summary>
    /// Copies the whole write-ahead log into the database file and truncates the log to zero bytes
    /// (<c>PRAGMA wal_checkpoint(TRUNCATE)</c>); afterwards the database file alone holds every committed transaction.
    /// </summary>
    /// <returns><see langword="false"/> when SQLite could not complete it (a statement is still reading); nothing changed then.</returns>
    /// <exception cref="InvalidOperationException">A transaction is open.</exception>
    public bool Checkpoint()
    {
        ThrowIfDisposed();
        if (InTransaction)
        {
            throw new InvalidOperationException("The write-ahead log cannot be checkpointed inside a transaction.");
        }

        using var command = _connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        using var reader = command.ExecuteReader();
        return reader.Read() && reader.GetInt64(0) == 0;
    }

    /// <summary>Gets the page size of the database in bytes.</summary>
    public long PageSize => ScalarInt64("PRAGMA page_size");

    /// <summary>Closes the database file.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _get.Dispose();
        _put.Dispose();
        _delete.Dispose();
        _connection.Dispose();
    }

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    internal StorageLimitExceededException LimitExceeded(SqliteException inner) => new(FilePath, MaxSizeBytes, inner);

    private static byte[] KeyBytes(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Encoding.UTF8.GetBytes(key);
    }

    // The smallest byte string greater than every key starting with prefix; null when none exists (all 0xFF).
    private static byte[]? PrefixUpperBound(byte[] prefix)
    {
        for (var i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] != 0xFF)
            {
                var upper = prefix.AsSpan(0, i + 1).ToArray();
                upper[i]++;
                return upper;
            }
        }

        return null;
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(name, SqliteType.Blob);
        }

        return command;
    }

    private int Write(SqliteCommand command)
    {
        try
        {
            return command.ExecuteNonQuery();
        }
        catch (SqliteException e) when (e.SqliteErrorCode == raw.SQLITE_FULL)
        {
            throw LimitExceeded(e);
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        Write(command);
    }

    private void RollBack(string savepoint)
    {
        // SQLite may already have rolled back the whole transaction (e.g. on SQLITE_FULL); only undo what is still open.
        if (raw.sqlite3_get_autocommit(_connection.Handle) == 0)
        {
            Execute($"ROLLBACK TO {savepoint}; RELEASE {savepoint}");
        }
    }

    private long ScalarInt64(string sql)
    {
        ThrowIfDisposed();
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
