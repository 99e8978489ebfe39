namespace Berth.Storage.Tests;

public sealed class KeyValueTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ObjectStorage _storage;

    public KeyValueTests() => _storage = ObjectStorage.Open(_dir.File("object.db"));

    public void Dispose()
    {
        _storage.Dispose();
        _dir.Dispose();
    }

    private sealed record Profile(string Name, int Age, string[] Tags);

    [Fact]
    public void Put_ThenGet_ReturnsEqualValue()
    {
        _storage.Put("user", new Profile("ada", 36, ["math"]));

        var profile = _storage.Get<Profile>("user");

        Assert.NotNull(profile);
        Assert.Equal("ada", profile.Name);
        Assert.Equal(36, profile.Age);
        Assert.Equal(["math"], profile.Tags);
    }

    [Fact]
    public void Get_MissingKey_ReturnsDefaultAndTryGetFalse()
    {
        Assert.Null(_storage.Get<string>("nope"));
        Assert.Equal(0, _storage.Get<int>("nope"));
        Assert.False(_storage.TryGet<int>("nope", out _));
    }

    [Fact]
    public void Put_ExistingKey_ReplacesValue()
    {
        _storage.Put("n", 1);
        _storage.Put("n", 2);

        Assert.Equal(2, _storage.Get<int>("n"));
    }

    [Fact]
    public void GetMany_SomeKeysMissing_ReturnsExistingInRequestOrder()
    {
        _storage.Put(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2, ["c"] = 3 });

        var found = _storage.Get<int>(["c", "missing", "a"]);

        Assert.Equal(["c", "a"], found.Keys);
        Assert.Equal([3, 1], found.Values);
    }

    [Fact]
    public void Delete_ExistingAndMissing_ReportsWhetherRemoved()
    {
        _storage.Put(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2, ["c"] = 3 });

        Assert.True(_storage.Delete("a"));
        Assert.False(_storage.Delete("a"));
        Assert.Equal(1, _storage.Delete(["b", "zzz"]));
        Assert.Equal(["c"], _storage.List<int>().Keys);
    }

    [Fact]
    public void List_WithPrefix_ReturnsOnlyPrefixedKeysInOrder()
    {
        _storage.Put(new Dictionary<string, int> { ["user:2"] = 2, ["user:1"] = 1, ["usex"] = 9, ["user"] = 0, ["users:1"] = 5 });

        var listed = _storage.List<int>(new ListOptions { Prefix = "user:" });

        Assert.Equal(["user:1", "user:2"], listed.Keys);
    }

    [Fact]
    public void List_WithStartEndLimitReverse_AppliesRange()
    {
        _storage.Put(Enumerable.Range(0, 10).ToDictionary(i => $"k{i}", i => i));

        Assert.Equal(["k2", "k3", "k4"], _storage.List<int>(new ListOptions { Start = "k2", End = "k5" }).Keys);
        Assert.Equal(["k4", "k3"], _storage.List<int>(new ListOptions { Start = "k2", End = "k5", Reverse = true, Limit = 2 }).Keys);
        Assert.Equal(["k0", "k1"], _storage.List<int>(new ListOptions { Limit = 2 }).Keys);
        Assert.Empty(_storage.List<int>(new ListOptions { Limit = 0 }));
    }

    [Fact]
    public void List_NonAsciiKeys_OrdersByUtf8Bytes()
    {
        // UTF-16 ordinal order would put the emoji (a surrogate pair, 0xD83D) before U+FF61; UTF-8 puts it after.
        _storage.Put(new Dictionary<string, int> { ["\U0001F600"] = 1, ["\uFF61"] = 2, ["z"] = 3, ["é"] = 4 });

        Assert.Equal(["z", "é", "\uFF61", "\U0001F600"], _storage.List<int>().Keys);
    }

    [Fact]
    public void Transaction_BodyThrows_RollsBackKeyValueAndSql()
    {
        _storage.Put("kept", 1);
        _storage.Sql.Exec("CREATE TABLE t (x INTEGER)");

        var error = Assert.Throws<InvalidOperationException>(() => _storage.Transaction(s =>
        {
            s.Put("kept", 2);
            s.Put("new", 3);
            s.Sql.Exec("INSERT INTO t VALUES (?)", 42);
            throw new InvalidOperationException("boom");
        }));

        Assert.Equal("boom", error.Message);
        Assert.Equal(1, _storage.Get<int>("kept"));
        Assert.False(_storage.TryGet<int>("new", out _));
        Assert.Equal(0L, _storage.Sql.Exec("SELECT count(*) FROM t").One<long>());
    }

    [Fact]
    public void Transaction_InnerThrowsAndIsCaught_KeepsOuterWrites()
    {
        var result = _storage.Transaction(s =>
        {
            s.Put("outer", 1);
            try
            {
                s.Transaction(inner =>
                {
                    inner.Put("inner", 2);
                    throw new InvalidOperationException("inner fails");
                });
            }
            catch (InvalidOperationException)
            {
            }

            return s.Get<int>("outer");
        });

        Assert.Equal(1, result);
        Assert.Equal(1, _storage.Get<int>("outer"));
        Assert.False(_storage.TryGet<int>("inner", out _));
    }

    [Fact]
    public void Transaction_AsyncBody_ThrowsAndRollsBack()
    {
        Func<ObjectStorage, Task> body = async s =>
        {
            s.Put("a", 1);
            await Task.Yield();
        };

        var error = Record.Exception(() => { _storage.Transaction(body); });

        Assert.IsType<InvalidOperationException>(error);

        Assert.False(_storage.TryGet<int>("a", out _));
    }

    [Fact]
    public void Reopen_AfterDispose_KeepsData()
    {
        _storage.Put("a", "persisted");
        _storage.Sql.Exec("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('row')");
        _storage.Dispose();

        using var reopened = ObjectStorage.Open(_dir.File("object.db"));

        Assert.Equal("persisted", reopened.Get<string>("a"));
        Assert.Equal("row", reopened.Sql.Exec("SELECT x FROM t").One<string>());
    }

    [Fact]
    public void Dispose_ThenUse_ThrowsObjectDisposed()
    {
        _storage.Dispose();

        Assert.Throws<ObjectDisposedException>(() => _storage.Get<int>("a"));
        Assert.Throws<ObjectDisposedException>(() => _storage.Sql.Exec("SELECT 1"));
    }
}
