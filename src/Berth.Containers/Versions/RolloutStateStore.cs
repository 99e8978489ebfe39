using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Berth.Containers;

/// <summary>A rollout as kept durably: its status and what was asked.</summary>
/// <param name="Status">Its progress.</param>
/// <param name="Percent">The share of object IDs the version was rolled out to (100 = all).</param>
/// <param name="Trigger">What asked for it.</param>
internal sealed record RolloutRecord(RolloutStatus Status, int Percent, string Trigger);

/// <summary>
/// The newest rollout of every class in <c>{DataDirectory}/rollouts.db</c> (SQLite), so that a node restarted mid-rollout
/// resumes it. Thread-safe: each call opens its own connection.
/// </summary>
internal sealed class RolloutStateStore
{
    private readonly string _connectionString;
    private readonly Lock _gate = new();
    private Task? _schema;

    /// <summary>A store on <paramref name="filePath"/>; the file is created on first use.</summary>
    public RolloutStateStore(string filePath)
    {
        FilePath = Path.GetFullPath(filePath);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = FilePath, Pooling = false }.ToString();
    }

    /// <summary>The database file.</summary>
    public string FilePath { get; }

    /// <summary>Writes <paramref name="record"/> as the class's newest rollout.</summary>
    public async Task SaveAsync(RolloutRecord record, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO rollouts (class_name, from_version, to_version, state, steps, step_index, replaced, total, started_ms, updated_ms, error, percent, trigger)
            VALUES ($class, $from, $to, $state, $steps, $step, $replaced, $total, $started, $updated, $error, $percent, $trigger)
            ON CONFLICT (class_name) DO UPDATE SET from_version = excluded.from_version, to_version = excluded.to_version, state = excluded.state,
                steps = excluded.steps, step_index = excluded.step_index, replaced = excluded.replaced, total = excluded.total,
                started_ms = excluded.started_ms, updated_ms = excluded.updated_ms, error = excluded.error, percent = excluded.percent, trigger = excluded.trigger
            """;
        var status = record.Status;
        command.Parameters.AddWithValue("$class", status.ClassName);
        command.Parameters.AddWithValue("$from", (object?)status.FromVersion ?? DBNull.Value);
        command.Parameters.AddWithValue("$to", status.ToVersion);
        command.Parameters.AddWithValue("$state", status.State);
        command.Parameters.AddWithValue("$steps", string.Join(",", status.Steps.Select(s => s.ToString(CultureInfo.InvariantCulture))));
        command.Parameters.AddWithValue("$step", status.StepIndex);
        command.Parameters.AddWithValue("$replaced", status.Replaced);
        command.Parameters.AddWithValue("$total", status.Total);
        command.Parameters.AddWithValue("$started", status.StartedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$updated", status.UpdatedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$error", (object?)status.Error ?? DBNull.Value);
        command.Parameters.AddWithValue("$percent", record.Percent);
        command.Parameters.AddWithValue("$trigger", record.Trigger);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The newest rollout of every class, by class name.</summary>
    public async Task<IReadOnlyList<RolloutRecord>> LoadAllAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT class_name, from_version, to_version, state, steps, step_index, replaced, total, started_ms, updated_ms, error, percent, trigger
            FROM rollouts ORDER BY class_name
            """;
        var records = new List<RolloutRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var steps = reader.GetString(4).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            var status = new RolloutStatus(
                reader.GetString(0),
                reader.IsDBNull(1) ? null : reader.GetInt32(1),
                reader.GetInt32(2),
                reader.GetString(3),
                steps,
                reader.GetInt32(5),
                reader.GetInt32(6),
                reader.GetInt32(7),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
                reader.IsDBNull(10) ? null : reader.GetString(10));
            records.Add(new RolloutRecord(status, reader.GetInt32(11), reader.GetString(12)));
        }

        return records;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync().WaitAsync(cancellationToken);
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private Task EnsureSchemaAsync()
    {
        lock (_gate)
        {
            if (_schema is null || _schema.IsFaulted || _schema.IsCanceled)
            {
                _schema = CreateSchemaAsync();
            }

            return _schema;
        }
    }

    private async Task CreateSchemaAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(CancellationToken.None);
        await using var schema = connection.CreateCommand();
        schema.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS rollouts (
                class_name TEXT PRIMARY KEY, from_version INTEGER NULL, to_version INTEGER NOT NULL, state TEXT NOT NULL,
                steps TEXT NOT NULL, step_index INTEGER NOT NULL, replaced INTEGER NOT NULL, total INTEGER NOT NULL,
                started_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, error TEXT NULL, percent INTEGER NOT NULL, trigger TEXT NOT NULL
            ) WITHOUT ROWID;
            """;
        await schema.ExecuteNonQueryAsync(CancellationToken.None);
    }
}
