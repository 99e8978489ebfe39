using BenchmarkDotNet.Attributes;
using Berth.Storage;

namespace Berth.Bench.Micro;

/// <summary>One object's SQLite storage: KV and SQL operations, each its own commit where it writes.</summary>
[MemoryDiagnoser]
public class StorageBenchmarks
{
    private string _directory = "";
    private ObjectStorage _storage = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "berth-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        _storage = ObjectStorage.Open(Path.Combine(_directory, "object.db"));
        for (var i = 0; i < 1_000; i++)
        {
            _storage.Put($"user/{i:D4}", new Profile($"name-{i}", i));
        }

        _storage.Sql.Exec("CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, at INTEGER)");
        for (var i = 0; i < 1_000; i++)
        {
            _storage.Sql.Exec("INSERT INTO events (kind, at) VALUES (?, ?)", "click", i);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _storage.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public Profile? KvGet() => _storage.Get<Profile>("user/0500");

    [Benchmark]
    public void KvPut() => _storage.Put($"user/{_next++ % 1_000:D4}", new Profile("updated", _next));

    [Benchmark]
    public int KvListPrefixTen() => _storage.List<Profile>(new ListOptions { Prefix = "user/05", Limit = 10 }).Count;

    [Benchmark]
    public long SqlSelectOne() => _storage.Sql.Exec("SELECT at FROM events WHERE id = ?", 500).One<long>();

    [Benchmark]
    public long SqlInsert() => _storage.Sql.Exec("INSERT INTO events (kind, at) VALUES (?, ?)", "view", _next++).RowsWritten;

    public sealed record Profile(string Name, int Visits);
}
