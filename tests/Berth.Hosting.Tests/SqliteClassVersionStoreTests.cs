using Berth.Containers;
using Berth.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Hosting.Tests;

/// <summary>The node's version store: numbering, durability across a restart of the store, traffic, concurrency.</summary>
public sealed class SqliteClassVersionStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _dir.Dispose();

    private SqliteClassVersionStore Open() => new(Path.Combine(_dir.Path, "data", SqliteClassVersionStore.FileName), _time);

    [Fact]
    public async Task RecordAsync_FirstVersions_NumberedFromOnePerClassWithTheirFields()
    {
        await using var store = Open();

        var first = await store.RecordAsync("Api", "img:a", "sha256:aa", "h1", "startup");
        _time.Advance(TimeSpan.FromMinutes(1));
        var second = await store.RecordAsync("Api", "img:b", null, "h2", "deploy");
        var other = await store.RecordAsync("Worker", "img:w", "sha256:ww", "h3", "startup");

        Assert.Equal(1, first.Number);
        Assert.Equal(2, second.Number);
        Assert.Equal(1, other.Number);
        Assert.Equal(new ClassVersion("Api", 2, "img:b", null, "h2", _time.GetUtcNow(), "deploy"), await store.GetAsync("Api", 2));
        Assert.Equal([2, 1], (await store.ListAsync("Api")).Select(v => v.Number));
        Assert.Null(await store.GetAsync("Api", 3));
        Assert.Null(await store.GetTrafficAsync("Api"));
    }

    [Fact]
    public async Task RecordAsync_AfterDeletesAndARestartOfTheStore_NumbersAreNeverReused()
    {
        await using (var store = Open())
        {
            await store.RecordAsync("Api", "img:1", null, "h", "startup");
            await store.RecordAsync("Api", "img:2", null, "h", "deploy");
            await store.RecordAsync("Api", "img:3", null, "h", "deploy");
            await store.SetTrafficAsync(new ClassTraffic("Api", 1, null, 0));
            Assert.True(await store.DeleteAsync("Api", 3));
            Assert.True(await store.DeleteAsync("Api", 2));
        }

        await using var reopened = Open();
        var next = await reopened.RecordAsync("Api", "img:4", null, "h", "deploy");

        Assert.Equal(4, next.Number);
        Assert.Equal([4, 1], (await reopened.ListAsync("Api")).Select(v => v.Number));
        Assert.Equal(new ClassTraffic("Api", 1, null, 0), await reopened.GetTrafficAsync("Api"));
    }

    [Fact]
    public async Task RecordAsync_ConcurrentCallersOnTwoStoresOfOneFile_EveryNumberOnce()
    {
        await using var a = Open();
        await using var b = Open();

        var recorded = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            Task.Run(() => (i % 2 == 0 ? a : b).RecordAsync("Api", $"img:{i}", null, "h", "deploy"))));

        Assert.Equal(Enumerable.Range(1, 40), recorded.Select(v => v.Number).Order());
        Assert.Equal(40, (await a.ListAsync("Api")).Count);
    }

    [Fact]
    public async Task SetTrafficAsync_SplitBetweenTwoVersions_KeptAcrossARestartOfTheStore()
    {
        await using (var store = Open())
        {
            await store.RecordAsync("Api", "img:1", null, "h", "startup");
            await store.RecordAsync("Api", "img:2", null, "h", "deploy");
            await store.SetTrafficAsync(new ClassTraffic("Api", 1, 2, 10));
        }

        await using var reopened = Open();

        Assert.Equal(new ClassTraffic("Api", 1, 2, 10), await reopened.GetTrafficAsync("Api"));
    }

    [Fact]
    public async Task SetTrafficAsync_UnrecordedVersionOrPercentOutOfRange_ThrowsAndKeepsTheTraffic()
    {
        await using var store = Open();
        await store.RecordAsync("Api", "img:1", null, "h", "startup");
        await store.SetTrafficAsync(new ClassTraffic("Api", 1, null, 0));

        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => store.SetTrafficAsync(new ClassTraffic("Api", 7, null, 0)));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SetTrafficAsync(new ClassTraffic("Api", 1, 9, 50)));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SetTrafficAsync(new ClassTraffic("Api", 1, 1, 101)));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SetTrafficAsync(new ClassTraffic("Other", 1, null, 0)));

        Assert.Contains("no version 7", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(new ClassTraffic("Api", 1, null, 0), await store.GetTrafficAsync("Api"));
    }

    [Fact]
    public async Task DeleteAsync_VersionThatReceivesTraffic_RefusedAndKept()
    {
        await using var store = Open();
        await store.RecordAsync("Api", "img:1", null, "h", "startup");
        await store.RecordAsync("Api", "img:2", null, "h", "deploy");
        await store.SetTrafficAsync(new ClassTraffic("Api", 1, 2, 50));

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.DeleteAsync("Api", 2));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.DeleteAsync("Api", 1));

        Assert.Equal(2, (await store.ListAsync("Api")).Count);
        Assert.False(await store.DeleteAsync("Api", 5));
    }
}
