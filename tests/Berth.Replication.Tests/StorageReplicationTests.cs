using Berth.Storage;
using Npgsql;

namespace Berth.Replication.Tests;

/// <summary>Cluster storage against real PostgreSQL: two data directories play two nodes.</summary>
public sealed class StorageReplicationTests
{
    private const string Key = "Counter/obj1";

    [Fact]
    public async Task WritesOnNodeA_OpenedOnEmptyNodeB_EveryFlushedWriteIsThere()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var a = TestNode.Create(database);
        await using var b = TestNode.Create(database);

        var onA = await a.OpenAsync(Key);
        for (var i = 0; i < 50; i++)
        {
            onA.Storage.Put($"k{i}", i);
            await onA.FlushAsync();
        }

        onA.Storage.Sql.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
        onA.Storage.Sql.Exec("INSERT INTO t (v) VALUES ('x'), ('y')");
        await onA.FlushAsync();
        // Node A dies without closing: only what was flushed counts.

        var onB = await b.OpenAsync(Key);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(i, onB.Storage.Get<int>($"k{i}"));
        }

        Assert.Equal(2L, onB.Storage.Sql.Exec("SELECT count(*) AS n FROM t").One()["n"]);
        await onB.CloseAsync();
    }

    [Fact]
    public async Task StaleLocalCopy_WhenTheObjectMovedAndBack_IsReplacedFromTheStore()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var a = TestNode.Create(database);
        await using var b = TestNode.Create(database);

        var first = await a.OpenAsync(Key);
        first.Storage.Put("v", "from A");
        await first.FlushAsync();
        await first.CloseAsync();

        var moved = await b.OpenAsync(Key);
        Assert.Equal("from A", moved.Storage.Get<string>("v"));
        moved.Storage.Put("v", "from B");
        moved.Storage.Put("only-b", 1);
        await moved.FlushAsync();
        await moved.CloseAsync();

        var back = await a.OpenAsync(Key);
        Assert.Equal("from B", back.Storage.Get<string>("v"));
        Assert.Equal(1, back.Storage.Get<int>("only-b"));
        await back.CloseAsync();
    }

    [Fact]
    public async Task Reopen_OnTheSameNodeWithCurrentCopy_UsesTheLocalFile()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var a = TestNode.Create(database);

        var first = await a.OpenAsync(Key);
        first.Storage.Put("v", 1);
        await first.FlushAsync();
        await first.CloseAsync();
        await database.ExecuteAsync("DELETE FROM berth_storage_snapshots"); // a restore would now fail

        var again = await a.OpenAsync(Key);
        Assert.Equal(1, again.Storage.Get<int>("v"));
        await again.CloseAsync();
    }

    [Fact]
    public async Task FailedShipment_FlushThrows_AndTheWriteShipsOnceTheStoreIsBack()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var a = TestNode.Create(database);
        await using var b = TestNode.Create(database);

        var onA = await a.OpenAsync(Key);
        onA.Storage.Put("before", 1);
        await onA.FlushAsync();

        await database.ExecuteAsync("ALTER TABLE berth_storage_frames RENAME TO berth_storage_frames_away");
        onA.Storage.Put("during", 2);
        await Assert.ThrowsAsync<PostgresException>(onA.FlushAsync);
        await Assert.ThrowsAsync<PostgresException>(onA.FlushAsync); // a later call that saw the write fails too

        await database.ExecuteAsync("ALTER TABLE berth_storage_frames_away RENAME TO berth_storage_frames");
        await onA.FlushAsync();

        var onB = await b.OpenAsync(Key);
        Assert.Equal(2, onB.Storage.Get<int>("during"));
        await onB.CloseAsync();
    }

    [Fact]
    public async Task StaleWriter_AfterAnotherActivationClaimedTheObject_IsFencedAndItsWriteNeverShips()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var a = TestNode.Create(database);
        await using var b = TestNode.Create(database);
        await using var c = TestNode.Create(database);

        var old = await a.OpenAsync(Key);
        old.Storage.Put("v", "first");
        await old.FlushAsync();

        var current = await b.OpenAsync(Key); // the object moved while A was cut off
        old.Storage.Put("v", "stale");
        await Assert.ThrowsAsync<StorageFencedException>(old.FlushAsync);
        await Assert.ThrowsAsync<StorageFencedException>(old.FlushAsync);

        current.Storage.Put("w", "current");
        await current.FlushAsync();
        await current.CloseAsync();
        await old.CloseAsync();

        var reader = await c.OpenAsync(Key);
        Assert.Equal("first", reader.Storage.Get<string>("v"));
        Assert.Equal("current", reader.Storage.Get<string>("w"));
        await reader.CloseAsync();

        // The fenced node's local copy is not trusted the next time the object lands there.
        var back = await a.OpenAsync(Key);
        Assert.Equal("first", back.Storage.Get<string>("v"));
        await back.CloseAsync();
    }

    [Fact]
    public async Task RestoreBookmark_AtNextActivation_RestoresTheEarlierState_AndCanBeUndone()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var a = TestNode.Create(database);
        await using var b = TestNode.Create(database);

        var session = await a.OpenAsync(Key);
        session.Storage.Put("k1", 1);
        await session.FlushAsync();
        var early = await session.Replica.GetCurrentBookmarkAsync(CancellationToken.None);
        session.Storage.Put("k2", 2);
        session.Storage.Delete("k1");
        await session.FlushAsync();
        var undo = await session.Replica.OnNextSessionRestoreBookmarkAsync(early, CancellationToken.None);
        Assert.Equal(2, session.Storage.Get<int>("k2")); // this session is unchanged
        await session.CloseAsync();

        var restored = await b.OpenAsync(Key);
        Assert.Equal(1, restored.Storage.Get<int>("k1"));
        Assert.False(restored.Storage.TryGet<int>("k2", out _));
        restored.Storage.Put("k3", 3); // history continues from the restored point
        await restored.FlushAsync();
        await restored.Replica.OnNextSessionRestoreBookmarkAsync(undo, CancellationToken.None);
        await restored.CloseAsync();

        var undone = await a.OpenAsync(Key);
        Assert.Equal(2, undone.Storage.Get<int>("k2"));
        Assert.False(undone.Storage.TryGet<int>("k1", out _));
        Assert.False(undone.Storage.TryGet<int>("k3", out _));
        await undone.CloseAsync();
    }

    [Fact]
    public async Task BookmarkForTime_RestoresTheStateAtThatTime_AndRefusesTimesOutsideTheWindow()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var time = Time.Fake();
        await using var a = TestNode.Create(database, time);

        var session = await a.OpenAsync(Key);
        session.Storage.Put("v", "10:00");
        await session.FlushAsync();
        time.Advance(TimeSpan.FromHours(1));
        session.Storage.Put("v", "11:00");
        session.Storage.Put("later", true);
        await session.FlushAsync();
        time.Advance(TimeSpan.FromHours(1));

        var at1030 = await session.Replica.GetBookmarkForTimeAsync(time.GetUtcNow() - TimeSpan.FromMinutes(90), CancellationToken.None);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => session.Replica.GetBookmarkForTimeAsync(time.GetUtcNow() - TimeSpan.FromDays(8), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => session.Replica.GetBookmarkForTimeAsync(time.GetUtcNow() + TimeSpan.FromMinutes(1), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => session.Replica.OnNextSessionRestoreBookmarkAsync("not a bookmark", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => session.Replica.OnNextSessionRestoreBookmarkAsync("00000000000000ff-0000000000000000", CancellationToken.None));
        await session.Replica.OnNextSessionRestoreBookmarkAsync(at1030, CancellationToken.None);
        await session.CloseAsync();

        var restored = await a.OpenAsync(Key);
        Assert.Equal("10:00", restored.Storage.Get<string>("v"));
        Assert.False(restored.Storage.TryGet<bool>("later", out _));
        await restored.CloseAsync();
    }

    [Fact]
    public async Task Snapshots_AndPruning_KeepRestoreCorrect_AndDropBookmarksOutsideTheWindow()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var time = Time.Fake();
        await using var a = TestNode.Create(database, time, o => o.SnapshotAfterBytes = 64 * 1024);
        await using var b = TestNode.Create(database, time);

        var session = await a.OpenAsync(Key);
        session.Storage.Put("k0", "first");
        await session.FlushAsync();
        var oldest = await session.Replica.GetCurrentBookmarkAsync(CancellationToken.None);
        for (var i = 1; i <= 60; i++)
        {
            session.Storage.Put($"k{i}", new string('x', 4000) + i);
            await session.FlushAsync();
            time.Advance(TimeSpan.FromHours(4));
        }

        var generations = await database.ScalarAsync($"SELECT count(*) FROM berth_storage_snapshots WHERE object_key = '{Key}'");
        Assert.True(generations >= 3, $"expected several snapshots, got {generations}");

        var pruned = await a.Replicator.Store.PruneAsync(time.GetUtcNow() - TimeSpan.FromDays(7), CancellationToken.None);
        Assert.True(pruned > 0);
        Assert.True(await database.ScalarAsync($"SELECT count(*) FROM berth_storage_snapshots WHERE object_key = '{Key}'") < generations);
        await Assert.ThrowsAsync<ArgumentException>(() => session.Replica.OnNextSessionRestoreBookmarkAsync(oldest, CancellationToken.None));
        await session.CloseAsync();

        var onB = await b.OpenAsync(Key);
        Assert.Equal("first", onB.Storage.Get<string>("k0"));
        for (var i = 1; i <= 60; i++)
        {
            Assert.Equal(new string('x', 4000) + i, onB.Storage.Get<string>($"k{i}"));
        }

        await onB.CloseAsync();
        Assert.Equal(SqliteDump.Of(a.PathOf(Key)), SqliteDump.Of(b.PathOf(Key)));
    }

    [Fact]
    public async Task LargeTransactions_SchemaChanges_AndDeletes_ReplayToAnIdenticalDatabase()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var a = TestNode.Create(database, configure: o => o.SnapshotAfterBytes = 3 * 1024 * 1024);
        await using var b = TestNode.Create(database);

        var session = await a.OpenAsync(Key);
        var sql = session.Storage.Sql;
        sql.Exec("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
        await session.FlushAsync();
        var random = new Random(16);
        session.Storage.Transaction(_ =>
        {
            for (var i = 0; i < 40; i++)
            {
                var data = new byte[100_000];
                random.NextBytes(data);
                sql.Exec("INSERT INTO blobs (id, data) VALUES (?, ?)", i, data);
            }
        }); // ~4 MB in one transaction
        await session.FlushAsync();
        sql.Exec("ALTER TABLE blobs ADD COLUMN note TEXT DEFAULT 'n'");
        sql.Exec("CREATE INDEX blobs_note ON blobs (note)");
        sql.Exec("CREATE TABLE gone (x); INSERT INTO gone VALUES (1); CREATE VIEW v AS SELECT id FROM blobs");
        await session.FlushAsync();
        sql.Exec("DELETE FROM blobs WHERE id % 3 = 0");
        sql.Exec("DROP TABLE gone");
        sql.Exec("UPDATE blobs SET note = 'kept' WHERE id % 2 = 0");
        session.Storage.Put("kv", new { a = 1 });
        session.Storage.Delete("kv");
        session.Storage.Put("kv2", "v");
        await session.FlushAsync();
        await session.CloseAsync();

        var onB = await b.OpenAsync(Key);
        Assert.Equal(26L, onB.Storage.Sql.Exec("SELECT count(*) AS n FROM blobs").One()["n"]);
        await onB.CloseAsync();
        var dumpA = SqliteDump.Of(a.PathOf(Key));
        Assert.StartsWith("integrity: ok", dumpA, StringComparison.Ordinal);
        Assert.Equal(dumpA, SqliteDump.Of(b.PathOf(Key)));

        // DeleteAll shrinks the file (VACUUM): the replay must shrink too.
        var again = await a.OpenAsync(Key);
        again.Storage.DeleteAll();
        await again.FlushAsync();
        await again.CloseAsync();
        await using var c = TestNode.Create(database);
        var other = await c.OpenAsync(Key);
        Assert.Empty(other.Storage.Sql.Exec("SELECT name FROM sqlite_schema WHERE name = 'blobs'").ToArray());
        Assert.False(other.Storage.TryGet<string>("kv2", out _));
        await other.CloseAsync();
    }

    [Fact]
    public async Task CheckpointPragmas_WhenTheLogIsShipped_AreRefused()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var a = TestNode.Create(database);
        var session = await a.OpenAsync(Key);
        Assert.Throws<InvalidOperationException>(() => session.Storage.Sql.Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
        Assert.Throws<InvalidOperationException>(() => session.Storage.Sql.Exec("PRAGMA wal_autocheckpoint = 1000"));
        await session.CloseAsync();
    }

    [Fact]
    public void Bookmarks_RoundTripAndSortInHistoryOrder()
    {
        var early = new Bookmark(1, 15);
        var late = new Bookmark(2, 0);
        Assert.Equal(early, Bookmark.Parse(early.ToString()));
        Assert.True(string.CompareOrdinal(early.ToString(), late.ToString()) < 0);
        Assert.Throws<ArgumentException>(() => Bookmark.Parse("0000000000000001-000000000000000g"));
        Assert.Throws<ArgumentException>(() => Bookmark.Parse("ffffffffffffffff-0000000000000000"));
    }
}
