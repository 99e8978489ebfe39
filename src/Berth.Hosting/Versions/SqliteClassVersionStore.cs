using System.Globalization;
using Berth.Containers;
using Berth.Objects;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>
/// <see cref="IClassVersionStore"/> on a SQLite file, <c>{DataDirectory}/versions.db</c> (the node's data directory,
/// <see cref="DurableObjectOptions.DataDirectory"/>). Version numbers come from a per-class counter that only grows, so a
/// number is never reused, even after <see cref="DeleteAsync"/>. Safe for concurrent callers: every operation runs under one
/// lock on one connection, and writes in an immediate transaction (another process on the same file waits up to 30 s).
/// </summary>
public sealed class SqliteClassVersionStore : IClassVersionStore, IAsyncDisposable, IDisposable
{
    /// <summary>The file name of the store in the data directory.</summary>
    public const string FileName = "versions.db";

    // The file's pragmas and tables, applied when its connection opens (SqliteFileConnection).
    private const string Schema = """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = FULL;
        PRAGMA busy_timeout = 30000;
        CREATE TABLE IF NOT EXISTS counters(class TEXT PRIMARY KEY NOT NULL, last INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS versions(
          class TEXT NOT NULL, number INTEGER NOT NULL, image TEXT NOT NULL, digest TEXT, config_hash TEXT NOT NULL,
          created_at INTEGER NOT NULL, trigger_name TEXT NOT NULL, PRIMARY KEY(class, number));
        CREATE TABLE IF NOT EXISTS traffic(
          class TEXT PRIMARY KEY NOT NULL, current INTEGER NOT NULL, candidate INTEGER, candidate_percent INTEGER NOT NULL);
        """;

    private readonly TimeProvider _time;
    private readonly SqliteFileConnection _file;

    /// <summary>Creates the store in the node's data directory; the file is created on first use.</summary>
    public SqliteClassVersionStore(IOptions<DurableObjectOptions> objects, TimeProvider time)
        : this(Path.Combine((objects ?? throw new ArgumentNullException(nameof(objects))).Value.DataDirectory, FileName), time)
    {
    }

    /// <summary>Creates the store on <paramref name="filePath"/>; its directory is created on first use.</summary>
    public SqliteClassVersionStore(string filePath, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        FilePath = Path.GetFullPath(filePath);
        _file = new SqliteFileConnection(FilePath, Schema, this);
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    /// <summary>The absolute path of the SQLite file.</summary>
    public string FilePath { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="className"/>, <paramref name="image"/>, <paramref name="configHash"/> or <paramref name="trigger"/> is empty.</exception>
    public async Task<ClassVersion> RecordAsync(string className, string image, string? digest, string configHash, string trigger, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(className);
        ArgumentException.ThrowIfNullOrEmpty(image);
        ArgumentException.ThrowIfNullOrEmpty(configHash);
        ArgumentException.ThrowIfNullOrEmpty(trigger);
        var createdAt = _time.GetUtcNow();
        return await WithConnectionAsync(async connection =>
        {
            // Immediate: the write lock is taken at BEGIN, so two writers never both read the same counter.
            await using var transaction = connection.BeginTransaction(deferred: false);
            await using var next = connection.CreateCommand();
            next.Transaction = transaction;
            next.CommandText = """
                INSERT INTO counters(class, last) VALUES ($class, 1)
                  ON CONFLICT(class) DO UPDATE SET last = last + 1
                RETURNING last;
                """;
            next.Parameters.AddWithValue("$class", className);
            var number = Convert.ToInt32(await next.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);

            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO versions(class, number, image, digest, config_hash, created_at, trigger_name)
                VALUES ($class, $number, $image, $digest, $hash, $created, $trigger);
                """;
            insert.Parameters.AddWithValue("$class", className);
            insert.Parameters.AddWithValue("$number", number);
            insert.Parameters.AddWithValue("$image", image);
            insert.Parameters.AddWithValue("$digest", (object?)digest ?? DBNull.Value);
            insert.Parameters.AddWithValue("$hash", configHash);
            insert.Parameters.AddWithValue("$created", createdAt.ToUnixTimeMilliseconds());
            insert.Parameters.AddWithValue("$trigger", trigger);
            await insert.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new ClassVersion(className, number, image, digest, configHash,
                DateTimeOffset.FromUnixTimeMilliseconds(createdAt.ToUnixTimeMilliseconds()), trigger);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<ClassVersion?> GetAsync(string className, int number, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(className);
        return await WithConnectionAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"{SelectVersion} WHERE class = $class AND number = $number;";
            command.Parameters.AddWithValue("$class", className);
            command.Parameters.AddWithValue("$number", number);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? ReadVersion(reader) : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ClassVersion>> ListAsync(string className, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(className);
        return await WithConnectionAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"{SelectVersion} WHERE class = $class ORDER BY number DESC;";
            command.Parameters.AddWithValue("$class", className);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var versions = new List<ClassVersion>();
            while (await reader.ReadAsync(cancellationToken))
            {
                versions.Add(ReadVersion(reader));
            }

            return (IReadOnlyList<ClassVersion>)versions;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<ClassTraffic?> GetTrafficAsync(string className, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(className);
        return await WithConnectionAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT current, candidate, candidate_percent FROM traffic WHERE class = $class;";
            command.Parameters.AddWithValue("$class", className);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken)
                ? new ClassTraffic(className, reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetInt32(1), reader.GetInt32(2))
                : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task SetTrafficAsync(ClassTraffic traffic, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(traffic);
        if (traffic.CandidatePercent is < 0 or > 100)
        {
            throw new ArgumentException($"CandidatePercent: {traffic.CandidatePercent} is not allowed; allowed: 0–100.", nameof(traffic));
        }

        await WithConnectionAsync(async connection =>
        {
            // Immediate: the write lock is taken at BEGIN, so two writers never both read the same counter.
            await using var transaction = connection.BeginTransaction(deferred: false);
            foreach (var number in new[] { traffic.Current, traffic.Candidate }.OfType<int>())
            {
                await using var exists = connection.CreateCommand();
                exists.Transaction = transaction;
                exists.CommandText = "SELECT 1 FROM versions WHERE class = $class AND number = $number;";
                exists.Parameters.AddWithValue("$class", traffic.ClassName);
                exists.Parameters.AddWithValue("$number", number);
                if (await exists.ExecuteScalarAsync(cancellationToken) is null)
                {
                    throw new ArgumentException($"Class '{traffic.ClassName}' has no version {number}.", nameof(traffic));
                }
            }

            await using var upsert = connection.CreateCommand();
            upsert.Transaction = transaction;
            upsert.CommandText = """
                INSERT INTO traffic(class, current, candidate, candidate_percent) VALUES ($class, $current, $candidate, $percent)
                  ON CONFLICT(class) DO UPDATE SET current = excluded.current, candidate = excluded.candidate, candidate_percent = excluded.candidate_percent;
                """;
            upsert.Parameters.AddWithValue("$class", traffic.ClassName);
            upsert.Parameters.AddWithValue("$current", traffic.Current);
            upsert.Parameters.AddWithValue("$candidate", (object?)traffic.Candidate ?? DBNull.Value);
            upsert.Parameters.AddWithValue("$percent", traffic.Candidate is null ? 0 : traffic.CandidatePercent);
            await upsert.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Deletes a version's record (image garbage collection). Its number is not reused. A version the class's traffic names
    /// is not deleted.
    /// </summary>
    /// <returns><see langword="true"/> when the record was deleted; <see langword="false"/> when it did not exist.</returns>
    /// <exception cref="InvalidOperationException">The class's traffic names the version (current or candidate).</exception>
    public async Task<bool> DeleteAsync(string className, int number, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(className);
        return await WithConnectionAsync(async connection =>
        {
            // Immediate: the write lock is taken at BEGIN, so two writers never both read the same counter.
            await using var transaction = connection.BeginTransaction(deferred: false);
            await using var used = connection.CreateCommand();
            used.Transaction = transaction;
            used.CommandText = "SELECT 1 FROM traffic WHERE class = $class AND (current = $number OR candidate = $number);";
            used.Parameters.AddWithValue("$class", className);
            used.Parameters.AddWithValue("$number", number);
            if (await used.ExecuteScalarAsync(cancellationToken) is not null)
            {
                throw new InvalidOperationException($"Version {number} of class '{className}' receives traffic and cannot be deleted.");
            }

            await using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM versions WHERE class = $class AND number = $number;";
            delete.Parameters.AddWithValue("$class", className);
            delete.Parameters.AddWithValue("$number", number);
            var deleted = await delete.ExecuteNonQueryAsync(cancellationToken) > 0;
            await transaction.CommitAsync(cancellationToken);
            return deleted;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _file.DisposeAsync();

    private const string SelectVersion = "SELECT class, number, image, digest, config_hash, created_at, trigger_name FROM versions";

    private static ClassVersion ReadVersion(SqliteDataReader reader) => new(
        reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)), reader.GetString(6));

    private Task<T> WithConnectionAsync<T>(Func<SqliteConnection, Task<T>> action, CancellationToken cancellationToken) =>
        _file.WithConnectionAsync(action, cancellationToken);
}
