using Microsoft.Data.Sqlite;

namespace Berth.Objects.Alarms;

/// <summary>
/// The silo's durable list of pending alarms (grain id → due time) in <c>{DataDirectory}/alarms.db</c>,
/// read at start so that alarms set before a crash fire after it. Each object's own database stays the
/// source of truth; this index only says whom to wake and when. Not thread-safe: the scheduler serialises access.
/// </summary>
internal sealed class AlarmIndex : IAlarmIndex
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _upsert;
    private readonly SqliteCommand _remove;

    public AlarmIndex(string filePath)
    {
        FilePath = Path.GetFullPath(filePath);
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = FilePath, Pooling = false }.ToString());
        _connection.Open();
        using (var schema = _connection.CreateCommand())
        {
            schema.CommandText = """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                CREATE TABLE IF NOT EXISTS alarms (grain_id TEXT PRIMARY KEY, due_ms INTEGER NOT NULL) WITHOUT ROWID;
                """;
            schema.ExecuteNonQuery();
        }

        _upsert = _connection.CreateCommand();
        _upsert.CommandText = "INSERT INTO alarms (grain_id, due_ms) VALUES ($id, $due) ON CONFLICT (grain_id) DO UPDATE SET due_ms = excluded.due_ms";
        _upsert.Parameters.Add("$id", SqliteType.Text);
        _upsert.Parameters.Add("$due", SqliteType.Integer);
        _remove = _connection.CreateCommand();
        _remove.CommandText = "DELETE FROM alarms WHERE grain_id = $id";
        _remove.Parameters.Add("$id", SqliteType.Text);
    }

    public string FilePath { get; }

    public string Description => FilePath;

    public bool IsShared => false;

    public void Upsert(string grainId, long dueMs)
    {
        _upsert.Parameters[0].Value = grainId;
        _upsert.Parameters[1].Value = dueMs;
        _upsert.ExecuteNonQuery();
    }

    public void Remove(string grainId)
    {
        _remove.Parameters[0].Value = grainId;
        _remove.ExecuteNonQuery();
    }

    public Task<IReadOnlyList<(string GrainId, long DueMs)>> LoadAllAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<(string GrainId, long DueMs)>>(LoadAll());

    public List<(string GrainId, long DueMs)> LoadAll()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT grain_id, due_ms FROM alarms";
        using var reader = command.ExecuteReader();
        var alarms = new List<(string, long)>();
        while (reader.Read())
        {
            alarms.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return alarms;
    }

    public void Dispose()
    {
        // Idempotent: the scheduler that uses the index and the container that created it may both dispose it.
        _upsert.Dispose();
        _remove.Dispose();
        _connection.Dispose();
    }
}
