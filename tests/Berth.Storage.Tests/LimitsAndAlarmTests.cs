namespace Berth.Storage.Tests;

public sealed class LimitsAndAlarmTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Put_BeyondLimit_ThrowsNamingLimitAndKeepsEarlierData()
    {
        const long limit = 256 * 1024;
        using var storage = ObjectStorage.Open(_dir.File("small.db"), new ObjectStorageOptions { MaxSizeBytes = limit });
        storage.Put("small", "fits");

        var error = Assert.Throws<StorageLimitExceededException>(() => storage.Put("big", new string('x', 512 * 1024)));

        Assert.Equal(limit, error.LimitBytes);
        Assert.Contains("262,144 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal("fits", storage.Get<string>("small"));
        Assert.False(storage.TryGet<string>("big", out _));
        Assert.True(storage.SizeBytes <= limit);
        storage.Put("after", 1); // still writable below the limit
    }

    [Fact]
    public void SqlInsert_BeyondLimit_ThrowsAndRollsBackTransaction()
    {
        using var storage = ObjectStorage.Open(_dir.File("small.db"), new ObjectStorageOptions { MaxSizeBytes = 128 * 1024 });
        storage.Sql.Exec("CREATE TABLE t (b BLOB)");

        Assert.Throws<StorageLimitExceededException>(() => storage.Transaction(s =>
        {
            for (var i = 0; i < 100; i++)
            {
                s.Sql.Exec("INSERT INTO t VALUES (randomblob(8192))");
            }
        }));

        Assert.Equal(0L, storage.Sql.Exec("SELECT count(*) FROM t").One<long>());
    }

    [Fact]
    public void Open_LimitBelowMinimum_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ObjectStorage.Open(_dir.File("x.db"), new ObjectStorageOptions { MaxSizeBytes = 1024 }));
    }

    [Fact]
    public void DeleteAll_WithDataAndAlarm_RemovesDataShrinksFileKeepsAlarm()
    {
        using var storage = ObjectStorage.Open(_dir.File("object.db"));
        storage.Put(Enumerable.Range(0, 2000).ToDictionary(i => $"k{i}", i => new string('v', 200)));
        storage.Sql.Exec("CREATE TABLE t (x); CREATE INDEX t_x ON t (x); CREATE VIEW v AS SELECT x FROM t; INSERT INTO t VALUES (1)");
        var alarm = DateTimeOffset.FromUnixTimeMilliseconds(1_900_000_000_123);
        storage.SetAlarm(alarm);
        var sizeBefore = storage.SizeBytes;

        storage.DeleteAll();

        Assert.Empty(storage.List<string>());
        Assert.Equal(0L, storage.Sql.Exec("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE '\\_berth\\_%' ESCAPE '\\'").One<long>());
        Assert.True(storage.SizeBytes < sizeBefore / 10, $"{storage.SizeBytes} vs {sizeBefore}");
        Assert.Equal(alarm, storage.GetAlarm());
        storage.Sql.Exec("CREATE TABLE t (x)"); // the name is free again
    }

    [Fact]
    public void Alarm_SetGetDelete_PersistsWithMillisecondsAcrossReopen()
    {
        var time = DateTimeOffset.FromUnixTimeMilliseconds(1_900_000_000_456);
        using (var storage = ObjectStorage.Open(_dir.File("object.db")))
        {
            Assert.Null(storage.GetAlarm());
            storage.SetAlarm(new StoredAlarm(time.AddSeconds(4), time, 2));
        }

        using var reopened = ObjectStorage.Open(_dir.File("object.db"));
        Assert.Equal(new StoredAlarm(time.AddSeconds(4), time, 2), reopened.GetAlarmRecord());
        reopened.SetAlarm(time);
        Assert.Equal(new StoredAlarm(time, time, 0), reopened.GetAlarmRecord());
        Assert.True(reopened.DeleteAlarm());
        Assert.False(reopened.DeleteAlarm());
        Assert.Null(reopened.GetAlarm());
    }
}
