using Npgsql;

namespace Berth.Replication.Tests;

/// <summary>Two services (two Orleans service ids) sharing one PostgreSQL database: each sees only its own objects' storage.</summary>
public sealed class StorageScopeTests
{
    private const string Key = "Counter/obj1";

    [Fact]
    public async Task SameObjectKey_InTwoServicesOnOneDatabase_StorageIsNotShared()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var a = TestNode.Create(database, scope: "service-a");
        await using var b = TestNode.Create(database, scope: "service-b");

        var onA = await a.OpenAsync(Key);
        onA.Storage.Put("owner", "a");
        await onA.FlushAsync();

        // Service B's object of the same class and name is new: it must not restore A's data.
        var onB = await b.OpenAsync(Key);
        Assert.False(onB.Storage.TryGet<string>("owner", out _), "service B read service A's storage");
        onB.Storage.Put("owner", "b");
        await onB.FlushAsync();

        // B's claim must not fence A: both keep writing their own object.
        onA.Storage.Put("more", 1);
        await onA.FlushAsync();
        await onA.CloseAsync();
        await onB.CloseAsync();

        await using var a2 = TestNode.Create(database, scope: "service-a");
        var again = await a2.OpenAsync(Key);
        Assert.Equal("a", again.Storage.Get<string>("owner"));
        Assert.Equal(1, again.Storage.Get<int>("more"));
        await again.CloseAsync();
    }

    [Fact]
    public async Task UnscopedRows_FromBeforeTheUpgrade_AreAdoptedByTheFirstServiceToAttachTheObject()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await WriteInOldShapeAsync(database, Key, [("v", "kept"), ("n", "42")]);
        Assert.Equal(0L, await database.ScalarAsync(
            "SELECT count(*) FROM information_schema.columns WHERE table_name LIKE 'berth_storage_%' AND column_name = 'scope'"));

        // The upgraded service, on a node with no local copy: everything comes from the old rows.
        await using var upgraded = TestNode.Create(database, scope: "service-a");
        var adopted = await upgraded.OpenAsync(Key);
        Assert.Equal("kept", adopted.Storage.Get<string>("v"));
        Assert.Equal("42", adopted.Storage.Get<string>("n"));
        adopted.Storage.Put("after", 1);
        await adopted.FlushAsync();
        await adopted.CloseAsync();

        Assert.Equal(0L, await database.ScalarAsync("""
            SELECT (SELECT count(*) FROM berth_storage_heads WHERE scope = '') + (SELECT count(*) FROM berth_storage_snapshots WHERE scope = '')
                 + (SELECT count(*) FROM berth_storage_snapshot_chunks WHERE scope = '') + (SELECT count(*) FROM berth_storage_frames WHERE scope = '')
            """));

        // Another service attaching the same key later starts empty: the object is service A's now.
        await using var other = TestNode.Create(database, scope: "service-b");
        var elsewhere = await other.OpenAsync(Key);
        Assert.False(elsewhere.Storage.TryGet<string>("v", out _), "service B got the object service A adopted");
        await elsewhere.CloseAsync();

        // And service A, on yet another node, still has all of it.
        await using var again = TestNode.Create(database, scope: "service-a");
        var restored = await again.OpenAsync(Key);
        Assert.Equal("kept", restored.Storage.Get<string>("v"));
        Assert.Equal(1, restored.Storage.Get<int>("after"));
        await restored.CloseAsync();
    }

    [Fact]
    public async Task UnscopedRows_AnObjectTheServiceAlreadyHas_AreLeftAlone()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await WriteInOldShapeAsync(database, Key, [("v", "unscoped")]);
        await using var a = TestNode.Create(database, scope: "service-a");
        var first = await a.OpenAsync("Counter/other"); // migrates the tables, adopts nothing of Key
        await first.CloseAsync();
        await database.ExecuteAsync($"""
            INSERT INTO berth_storage_heads (scope, object_key, generation, seq, owner, updated_at)
            VALUES ('service-a', '{Key}', 0, 0, gen_random_uuid(), now())
            """);

        var session = await a.OpenAsync(Key);
        Assert.False(session.Storage.TryGet<string>("v", out _), "the scoped head was merged with unscoped rows");
        await session.CloseAsync();
        Assert.Equal(1L, await database.ScalarAsync($"SELECT count(*) FROM berth_storage_heads WHERE scope = '' AND object_key = '{Key}'"));
    }

    [Fact]
    public async Task UnscopedRows_TwoServicesAttachAtOnce_ExactlyOneAdoptsThem()
    {
        await using var database = await PostgresDatabase.CreateAsync(pooling: true);
        await WriteInOldShapeAsync(database, Key, [("v", "old")]);
        await using var a = TestNode.Create(database, scope: "service-a");
        await using var b = TestNode.Create(database, scope: "service-b");

        var sessions = await Task.WhenAll(Task.Run(() => a.OpenAsync(Key)), Task.Run(() => b.OpenAsync(Key)));

        Assert.Single(sessions, s => s.Storage.TryGet<string>("v", out _));
        Assert.Equal(2L, await database.ScalarAsync($"SELECT count(*) FROM berth_storage_heads WHERE object_key = '{Key}' AND scope <> ''"));
        foreach (var session in sessions)
        {
            await session.CloseAsync();
        }
    }

    /// <summary>
    /// Leaves <paramref name="key"/>'s storage in the tables as the store before scoping wrote them: real rows (a snapshot and
    /// shipped frames, written by a node into a scratch database) copied into tables made with that store's DDL.
    /// </summary>
    private static async Task WriteInOldShapeAsync(PostgresDatabase database, string key, (string Key, string Value)[] entries)
    {
        await database.ExecuteAsync("""
            CREATE TABLE berth_storage_heads (
                object_key text PRIMARY KEY, generation bigint NOT NULL, seq bigint NOT NULL, owner uuid NOT NULL,
                restore_generation bigint NULL, restore_seq bigint NULL, updated_at timestamptz NOT NULL);
            CREATE TABLE berth_storage_snapshots (
                object_key text NOT NULL, generation bigint NOT NULL, created_at timestamptz NOT NULL, page_size integer NOT NULL,
                size_bytes bigint NOT NULL, PRIMARY KEY (object_key, generation));
            CREATE TABLE berth_storage_snapshot_chunks (
                object_key text NOT NULL, generation bigint NOT NULL, chunk integer NOT NULL, data bytea NOT NULL,
                PRIMARY KEY (object_key, generation, chunk));
            CREATE TABLE berth_storage_frames (
                object_key text NOT NULL, generation bigint NOT NULL, seq bigint NOT NULL, committed_at timestamptz NOT NULL,
                frames bytea NOT NULL, PRIMARY KEY (object_key, generation, seq));
            """);

        await using var scratch = await PostgresDatabase.CreateAsync();
        await using (var writer = TestNode.Create(scratch))
        {
            var session = await writer.OpenAsync(key);
            foreach (var (k, v) in entries)
            {
                session.Storage.Put(k, v);
                await session.FlushAsync(); // the first flush is a snapshot, the later ones frames
            }

            await session.CloseAsync();
        }

        if (entries.Length > 1)
        {
            Assert.True(await scratch.ScalarAsync("SELECT count(*) FROM berth_storage_frames") > 0, "the writer shipped no frames to copy");
        }

        await using var source = new NpgsqlConnection(scratch.ConnectionString);
        await source.OpenAsync();
        await using var target = new NpgsqlConnection(database.ConnectionString);
        await target.OpenAsync();
        foreach (var (table, columns) in ((string Table, string Columns)[])[
            ("berth_storage_heads", "object_key, generation, seq, owner, restore_generation, restore_seq, updated_at"),
            ("berth_storage_snapshots", "object_key, generation, created_at, page_size, size_bytes"),
            ("berth_storage_snapshot_chunks", "object_key, generation, chunk, data"),
            ("berth_storage_frames", "object_key, generation, seq, committed_at, frames")])
        {
            await using var read = new NpgsqlCommand($"SELECT {columns} FROM {table}", source);
            await using var reader = await read.ExecuteReaderAsync();
            var width = columns.Split(',').Length;
            while (await reader.ReadAsync())
            {
                await using var insert = new NpgsqlCommand(
                    $"INSERT INTO {table} ({columns}) VALUES ({string.Join(", ", Enumerable.Range(1, width).Select(i => $"${i}"))})", target);
                for (var i = 0; i < width; i++)
                {
                    insert.Parameters.Add(new() { Value = reader.GetValue(i) });
                }

                await insert.ExecuteNonQueryAsync();
            }
        }
    }
}
