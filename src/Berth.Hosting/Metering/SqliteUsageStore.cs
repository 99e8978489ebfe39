using Berth.Objects;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>
/// The node's usage records in a SQLite file, <c>{DataDirectory}/usage.db</c> (<see cref="DurableObjectOptions.DataDirectory"/>):
/// one row per app, class, object and UTC hour, amounts added up by <see cref="AddAsync"/> in one transaction per batch.
/// Safe for concurrent callers: every operation runs under one lock on one connection.
/// </summary>
public sealed class SqliteUsageStore : IAsyncDisposable, IDisposable
{
    /// <summary>The file name of the store in the data directory.</summary>
    public const string FileName = "usage.db";

    // The file's pragmas and tables, applied when its connection opens (SqliteFileConnection).
    private const string Schema = """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        PRAGMA busy_timeout = 30000;
        CREATE TABLE IF NOT EXISTS usage(
          app TEXT NOT NULL, class TEXT NOT NULL, object TEXT NOT NULL, hour INTEGER NOT NULL, object_name TEXT,
          running_ms INTEGER NOT NULL, starts INTEGER NOT NULL, memory_gib_s REAL NOT NULL, disk_gb_s REAL NOT NULL,
          cpu_ns INTEGER NOT NULL, egress_bytes INTEGER NOT NULL,
          PRIMARY KEY(app, class, object, hour));
        """;

    private readonly SqliteFileConnection _file;

    /// <summary>Creates the store in the node's data directory; the file is created on first use.</summary>
    public SqliteUsageStore(IOptions<DurableObjectOptions> objects)
        : this(Path.Combine((objects ?? throw new ArgumentNullException(nameof(objects))).Value.DataDirectory, FileName))
    {
    }

    /// <summary>Creates the store on <paramref name="filePath"/>; its directory is created on first use.</summary>
    public SqliteUsageStore(string filePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        FilePath = Path.GetFullPath(filePath);
        _file = new SqliteFileConnection(FilePath, Schema, this);
    }

    /// <summary>The absolute path of the SQLite file.</summary>
    public string FilePath { get; }

    /// <summary>Adds <paramref name="rows"/> of <paramref name="appName"/> to the stored amounts, all or nothing.</summary>
    /// <exception cref="SqliteException">The file could not be written.</exception>
    public async Task AddAsync(string appName, IReadOnlyCollection<UsageRow> rows, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(appName);
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return;
        }

        await WithConnectionAsync(async connection =>
        {
            await using var transaction = connection.BeginTransaction(deferred: false);
            await using var upsert = connection.CreateCommand();
            upsert.Transaction = transaction;
            upsert.CommandText = """
                INSERT INTO usage(app, class, object, hour, object_name, running_ms, starts, memory_gib_s, disk_gb_s, cpu_ns, egress_bytes)
                VALUES ($app, $class, $object, $hour, $name, $running, $starts, $memory, $disk, $cpu, $egress)
                ON CONFLICT(app, class, object, hour) DO UPDATE SET
                  object_name = coalesce(excluded.object_name, object_name),
                  running_ms = running_ms + excluded.running_ms, starts = starts + excluded.starts,
                  memory_gib_s = memory_gib_s + excluded.memory_gib_s, disk_gb_s = disk_gb_s + excluded.disk_gb_s,
                  cpu_ns = cpu_ns + excluded.cpu_ns, egress_bytes = egress_bytes + excluded.egress_bytes;
                """;
            var app = upsert.Parameters.AddWithValue("$app", appName);
            var cls = upsert.Parameters.Add("$class", SqliteType.Text);
            var obj = upsert.Parameters.Add("$object", SqliteType.Text);
            var hour = upsert.Parameters.Add("$hour", SqliteType.Integer);
            var name = upsert.Parameters.Add("$name", SqliteType.Text);
            var running = upsert.Parameters.Add("$running", SqliteType.Integer);
            var starts = upsert.Parameters.Add("$starts", SqliteType.Integer);
            var memory = upsert.Parameters.Add("$memory", SqliteType.Real);
            var disk = upsert.Parameters.Add("$disk", SqliteType.Real);
            var cpu = upsert.Parameters.Add("$cpu", SqliteType.Integer);
            var egress = upsert.Parameters.Add("$egress", SqliteType.Integer);
            foreach (var row in rows)
            {
                cls.Value = row.ClassName;
                obj.Value = row.ObjectId;
                hour.Value = row.Hour.ToUnixTimeSeconds();
                name.Value = (object?)row.ObjectName ?? DBNull.Value;
                running.Value = row.Amounts.RunningMs;
                starts.Value = row.Amounts.Starts;
                memory.Value = row.Amounts.MemoryGibSeconds;
                disk.Value = row.Amounts.DiskGbSeconds;
                cpu.Value = row.Amounts.CpuNanoseconds;
                egress.Value = row.Amounts.EgressBytes;
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// The rows of <paramref name="appName"/> whose hour overlaps [<paramref name="since"/>, <paramref name="until"/>),
    /// optionally of one class, ordered by class, object and hour.
    /// </summary>
    public async Task<IReadOnlyList<UsageRow>> QueryAsync(
        string appName, DateTimeOffset since, DateTimeOffset until, string? className = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(appName);
        return await WithConnectionAsync(async connection =>
        {
            await using var query = connection.CreateCommand();
            query.CommandText = """
                SELECT class, object, object_name, hour, running_ms, starts, memory_gib_s, disk_gb_s, cpu_ns, egress_bytes
                FROM usage
                WHERE app = $app AND hour >= $since AND hour < $until AND ($class IS NULL OR class = $class)
                ORDER BY class, object, hour;
                """;
            query.Parameters.AddWithValue("$app", appName);
            query.Parameters.AddWithValue("$since", UsageHours.Floor(since).ToUnixTimeSeconds());
            // Rounded up: an hour that starts at 23:00:00 overlaps [since, 23:00:00.001) (whole seconds would drop it).
            query.Parameters.AddWithValue("$until", (until.ToUnixTimeMilliseconds() + 999) / 1000);
            query.Parameters.AddWithValue("$class", (object?)className ?? DBNull.Value);
            var rows = new List<UsageRow>();
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new UsageRow(
                    reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(3)),
                    new UsageAmounts(reader.GetInt64(4), reader.GetInt64(5), reader.GetDouble(6), reader.GetDouble(7), reader.GetInt64(8), reader.GetInt64(9))));
            }

            return (IReadOnlyList<UsageRow>)rows;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _file.DisposeAsync();

    private Task<T> WithConnectionAsync<T>(Func<SqliteConnection, Task<T>> action, CancellationToken cancellationToken) =>
        _file.WithConnectionAsync(action, cancellationToken);

}

/// <summary>UTC hours.</summary>
internal static class UsageHours
{
    /// <summary>The start of the UTC hour <paramref name="time"/> is in.</summary>
    public static DateTimeOffset Floor(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % TimeSpan.TicksPerHour, TimeSpan.Zero);
    }
}
