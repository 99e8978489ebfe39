using Berth.Storage;

namespace Berth.Objects.Tests;

public sealed class StorageTests
{
    [Fact]
    public async Task Storage_AfterSiloRestart_KeepsKeyValueAndSqlData()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "berth-tests", Guid.NewGuid().ToString("N"));
        try
        {
            string id;
            await using (var silo = await TestSilo.StartAsync(dataDirectory: dataDirectory))
            {
                var counter = silo.Counters.GetByName("persistent");
                id = silo.Counters.IdFromName("persistent").ToString();
                await counter.IncrementAsync(41);
                await counter.PutAsync("greeting", "hello");
                await counter.SqlInsertAsync("first note");
            }

            Assert.True(File.Exists(Path.Combine(dataDirectory, "objects", "Counter", $"{id}.db")));
            await using (var silo = await TestSilo.StartAsync(dataDirectory: dataDirectory))
            {
                var counter = silo.Counters.GetByName("persistent");
                Assert.Equal(42, await counter.IncrementAsync(1));
                Assert.Equal("hello", await counter.ReadAsync("greeting"));
                Assert.Equal(1L, await counter.SqlCountAsync());
            }
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Storage_WriteBeyondConfiguredLimit_CallerGetsLimitError()
    {
        await using var silo = await TestSilo.StartAsync(o => o.StorageLimitBytes = 256 * 1024);
        var counter = silo.Counters.GetByName("small");
        await counter.PutAsync("a", "fits");

        var error = await Assert.ThrowsAsync<StorageLimitExceededException>(() => counter.PutAsync("big", new string('x', 400_000)));

        Assert.Contains("262,144 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal("fits", await counter.ReadAsync("a"));
        Assert.True(await counter.StorageSizeAsync() <= 256 * 1024);
    }

    [Fact]
    public async Task DeleteAll_ThroughObject_RemovesData()
    {
        await using var silo = await TestSilo.StartAsync();
        var counter = silo.Counters.GetByName("wipe");
        await counter.IncrementAsync(3);
        await counter.SqlInsertAsync("note");

        await counter.DeleteAllAsync();

        Assert.Null(await counter.ReadAsync("count"));
        await Assert.ThrowsAnyAsync<Exception>(() => counter.SqlCountAsync()); // the notes table is gone
    }
}
