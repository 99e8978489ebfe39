using System.Collections.Concurrent;
using System.Threading.Channels;
using Orleans.Concurrency;

namespace Berth.Objects.Tests;

/// <summary>Lets tests observe what objects do inside the silo; registered as a singleton.</summary>
public sealed class TestProbe
{
    public ConcurrentDictionary<string, int> Activations { get; } = new();

    public ConcurrentDictionary<string, int> Deactivations { get; } = new();

    public Channel<string> Deactivated { get; } = Channel.CreateUnbounded<string>();

    public Channel<(string Id, AlarmInvocation Invocation, DateTimeOffset FiredAt)> Alarms { get; } =
        Channel.CreateUnbounded<(string, AlarmInvocation, DateTimeOffset)>();

    public ConcurrentDictionary<string, int> AlarmFailuresLeft { get; } = new();

    public ConcurrentDictionary<string, TaskCompletionSource> Releases { get; } = new();

    public TaskCompletionSource Release(string id) => Releases.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

[GenerateSerializer]
public sealed class CounterLimitException(string message) : Exception(message);

public interface ICounter : IDurableObject
{
    Task<int> IncrementAsync(int by);

    Task<int> GetAsync();

    Task<string> WhoAmIAsync();

    Task<string?> NameAsync();

    Task<int> ActivationCountAsync();

    Task PutAsync(string key, string value);

    Task<string?> ReadAsync(string key);

    Task<long> SqlCountAsync();

    Task SqlInsertAsync(string text);

    Task<long> StorageSizeAsync();

    Task DeleteAllAsync();

    Task<string> WaitForReleaseAsync();

    Task DeactivateAsync();

    Task SetAlarmAsync(DateTimeOffset time);

    Task<DateTimeOffset?> GetAlarmAsync();

    Task DeleteAlarmAsync();

    Task FailAlarmTimesAsync(int times);

    Task BlockUntilReleasedAsync();

    [AlwaysInterleave]
    Task<string> PingAsync();
}

public class Counter(TestProbe probe) : DurableObject, ICounter
{
    private int _count;

    protected TestProbe Probe => probe;

    public Task<int> IncrementAsync(int by)
    {
        if (by <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(by), by, "by must be positive");
        }

        if (_count + by > 1000)
        {
            throw new CounterLimitException($"the counter {Context.Id} would pass 1000");
        }

        _count += by;
        Context.Storage.Put("count", _count);
        return Task.FromResult(_count);
    }

    public Task<int> GetAsync() => Task.FromResult(_count);

    public Task<string?> NameAsync() => Task.FromResult(Context.Name);

    public Task<string> WhoAmIAsync() => Task.FromResult($"{GetType().Name}:{Context.NamespaceName}:{Context.Id}");

    public Task<int> ActivationCountAsync() => Task.FromResult(probe.Activations.GetValueOrDefault(Context.Id.ToString()));

    public Task PutAsync(string key, string value)
    {
        Context.Storage.Put(key, value);
        return Task.CompletedTask;
    }

    public Task<string?> ReadAsync(string key) => Task.FromResult(Context.Storage.Get<string>(key));

    public Task<long> SqlCountAsync() => Task.FromResult(Context.Storage.Sql.Exec("SELECT count(*) FROM notes").One<long>());

    public Task SqlInsertAsync(string text)
    {
        Context.Storage.Sql.Exec("INSERT INTO notes (text) VALUES (?)", text);
        return Task.CompletedTask;
    }

    public Task<long> StorageSizeAsync() => Task.FromResult(Context.Storage.SizeBytes);

    public Task DeleteAllAsync()
    {
        Context.Storage.DeleteAll();
        _count = 0;
        return Task.CompletedTask;
    }

    public async Task<string> WaitForReleaseAsync()
    {
        await probe.Release(Context.Id.ToString()).Task;
        return "released";
    }

    public Task DeactivateAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task SetAlarmAsync(DateTimeOffset time)
    {
        Context.SetAlarm(time);
        return Task.CompletedTask;
    }

    public Task<DateTimeOffset?> GetAlarmAsync() => Task.FromResult(Context.GetAlarm());

    public Task DeleteAlarmAsync()
    {
        Context.DeleteAlarm();
        return Task.CompletedTask;
    }

    public Task FailAlarmTimesAsync(int times)
    {
        probe.AlarmFailuresLeft[Context.Id.ToString()] = times;
        return Task.CompletedTask;
    }

    public Task BlockUntilReleasedAsync() =>
        Context.BlockConcurrencyWhileAsync(async () =>
        {
            probe.Release("blocking:" + Context.Id).SetResult();
            await probe.Release(Context.Id.ToString()).Task;
        });

    public Task<string> PingAsync() => Task.FromResult("pong");

    protected override async Task OnObjectActivateAsync(CancellationToken cancellationToken)
    {
        // A slow initialisation widens the window in which concurrent first calls could race.
        await Context.BlockConcurrencyWhileAsync(async () =>
        {
            await Task.Yield();
            Context.Storage.Sql.Exec("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT)");
            _count = Context.Storage.Get<int>("count");
        });
        probe.Activations.AddOrUpdate(Context.Id.ToString(), 1, (_, n) => n + 1);
    }

    protected override Task OnObjectDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        probe.Deactivations.AddOrUpdate(Context.Id.ToString(), 1, (_, n) => n + 1);
        probe.Deactivated.Writer.TryWrite(Context.Id.ToString());
        return Task.CompletedTask;
    }

    protected override Task AlarmAsync(AlarmInvocation invocation, CancellationToken cancellationToken)
    {
        var id = Context.Id.ToString();
        probe.Alarms.Writer.TryWrite((id, invocation, Context.TimeProvider.GetUtcNow()));
        if (probe.AlarmFailuresLeft.TryGetValue(id, out var left) && left > 0)
        {
            probe.AlarmFailuresLeft[id] = left - 1;
            throw new InvalidOperationException($"alarm failure, {left - 1} left");
        }

        return Task.CompletedTask;
    }
}

/// <summary>A second class behind the same interface, to show the binding picks the class.</summary>
public sealed class OtherCounter(TestProbe probe) : Counter(probe);
