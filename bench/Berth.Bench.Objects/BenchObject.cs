using System.Diagnostics;
using Berth.Objects;

namespace Berth.Bench.Objects;

public interface IBenchObject : IDurableObject
{
    Task<int> PingAsync(int value);

    Task TouchStorageAsync();

    Task PutAsync(string key, int value);

    Task<int> GetAsync(string key);

    /// <summary>Runs <paramref name="count"/> storage operations inside one turn and returns the elapsed ticks.</summary>
    Task<long> StorageLoopAsync(int count, bool write);
}

public sealed class BenchObject : DurableObject, IBenchObject
{
    private static readonly string[] Keys = [.. Enumerable.Range(0, 1024).Select(i => $"key:{i:D4}")];

    public Task<int> PingAsync(int value) => Task.FromResult(value + 1);

    public Task TouchStorageAsync()
    {
        Context.Storage.Put("touched", true);
        return Task.CompletedTask;
    }

    public Task PutAsync(string key, int value)
    {
        Context.Storage.Put(key, value);
        return Task.CompletedTask;
    }

    public Task<int> GetAsync(string key) => Task.FromResult(Context.Storage.Get<int>(key));

    public Task<long> StorageLoopAsync(int count, bool write)
    {
        var storage = Context.Storage;
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            if (write)
            {
                storage.Put(Keys[i & 1023], i);
            }
            else
            {
                storage.Get<int>(Keys[i & 1023]);
            }
        }

        return Task.FromResult(Stopwatch.GetElapsedTime(started).Ticks);
    }
}
