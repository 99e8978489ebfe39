using System.Text;
using Berth.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // a 2-core machine shared with other suites

namespace Berth.Replication.Tests;

/// <summary>A "node": a data directory of its own and a replicator on the shared database.</summary>
internal sealed class TestNode : IAsyncDisposable
{
    private TestNode(string directory, StorageReplicator replicator)
    {
        Directory = directory;
        Replicator = replicator;
    }

    /// <summary>The scope of nodes that do not name one: one service.</summary>
    public const string DefaultScope = "test-service";

    public string Directory { get; }

    public StorageReplicator Replicator { get; }

    /// <summary>Creates a node of the service <paramref name="scope"/> (the Orleans service id its store is scoped by).</summary>
    public static TestNode Create(PostgresDatabase database, TimeProvider? time = null, Action<ReplicationOptions>? configure = null, string scope = DefaultScope)
    {
        var options = new ReplicationOptions { Connection = database.ConnectionString };
        configure?.Invoke(options);
        var directory = Path.Combine(Path.GetTempPath(), "berth-replication-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        return new TestNode(directory, new StorageReplicator(new ReplicationStore(database.ConnectionString, scope), options, time ?? TimeProvider.System, NullLogger.Instance));
    }

    public string PathOf(string key) => System.IO.Path.Combine(Directory, "objects", key + ".db");

    /// <summary>Activates the object on this node: attach (restore if needed) and open its storage.</summary>
    public async Task<Session> OpenAsync(string key)
    {
        var replica = (ObjectReplica)await Replicator.AttachAsync(key, PathOf(key), CancellationToken.None);
        return new Session(replica, replica.Open(new ObjectStorageOptions()));
    }

    public async ValueTask DisposeAsync()
    {
        await Replicator.DisposeAsync();
        SqliteConnection.ClearAllPools();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>One activation of an object on a test node.</summary>
internal sealed class Session(ObjectReplica replica, ObjectStorage storage)
{
    public ObjectReplica Replica => replica;

    public ObjectStorage Storage => storage;

    /// <summary>What the output gate does at the end of every call.</summary>
    public Task FlushAsync() => replica.FlushAsync(CancellationToken.None);

    public Task CloseAsync() => replica.CloseAsync(storage, CancellationToken.None);
}

public static class SqliteDump
{
    /// <summary>PRAGMA integrity_check plus every schema entry and row of every table, as text: equal dumps = equal databases.</summary>
    public static string Of(string path)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        var dump = new StringBuilder();
        using (var check = connection.CreateCommand())
        {
            check.CommandText = "PRAGMA integrity_check";
            dump.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"integrity: {check.ExecuteScalar()}");
        }

        var tables = new List<string>();
        using (var schema = connection.CreateCommand())
        {
            schema.CommandText = "SELECT type, name, sql FROM sqlite_schema ORDER BY type, name";
            using var reader = schema.ExecuteReader();
            while (reader.Read())
            {
                dump.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"{reader.GetString(0)} {reader.GetString(1)}: {(reader.IsDBNull(2) ? "" : reader.GetString(2))}");
                if (reader.GetString(0) == "table")
                {
                    tables.Add(reader.GetString(1));
                }
            }
        }

        foreach (var table in tables)
        {
            using var rows = connection.CreateCommand();
            rows.CommandText = $"SELECT * FROM \"{table}\" ORDER BY 1";
            using var reader = rows.ExecuteReader();
            while (reader.Read())
            {
                dump.Append(table).Append(':');
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var value = reader.GetValue(i);
                    dump.Append(' ').Append(value is byte[] bytes ? Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)) : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                }

                dump.AppendLine();
            }
        }

        return dump.ToString();
    }
}

public static class Time
{
    public static FakeTimeProvider Fake() => new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
}
