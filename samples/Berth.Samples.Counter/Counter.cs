using Berth.Objects;

namespace Berth.Samples.Counter;

/// <summary>The object's RPC surface: what callers can do with a counter.</summary>
public interface ICounter : IDurableObject
{
    Task<long> IncrementAsync(long by);

    Task<long> GetAsync();

    Task<long[]> HistoryAsync(int last);

    /// <summary>Resets the counter to zero after <paramref name="delay"/>, using the object's alarm.</summary>
    Task<DateTimeOffset> ResetAfterAsync(TimeSpan delay);
}

/// <summary>A counter that keeps its value in key-value storage and its history in SQL.</summary>
public sealed partial class Counter(ILogger<Counter> logger) : DurableObject, ICounter
{
    private long _value;

    public Task<long> IncrementAsync(long by)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(by);
        _value += by;
        Context.Storage.Transaction(storage =>
        {
            storage.Put("value", _value);
            storage.Sql.Exec("INSERT INTO history (at_ms, value) VALUES (?, ?)", Context.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds(), _value);
        });
        return Task.FromResult(_value);
    }

    public Task<long> GetAsync() => Task.FromResult(_value);

    public Task<long[]> HistoryAsync(int last) =>
        Task.FromResult(Context.Storage.Sql.Exec("SELECT value FROM history ORDER BY rowid DESC LIMIT ?", last).ToArray<long>());

    public Task<DateTimeOffset> ResetAfterAsync(TimeSpan delay)
    {
        var at = Context.TimeProvider.GetUtcNow() + delay;
        Context.SetAlarm(at);
        return Task.FromResult(at);
    }

    public override Task<FetchResponse> FetchAsync(FetchRequest request, CancellationToken cancellationToken = default) =>
        Task.FromResult(FetchResponse.Text($"{request.Method} {request.Url}: counter {Context.Id} is {_value}\n"));

    protected override Task OnObjectActivateAsync(CancellationToken cancellationToken) =>
        Context.BlockConcurrencyWhileAsync(() =>
        {
            Context.Storage.Sql.Exec("CREATE TABLE IF NOT EXISTS history (at_ms INTEGER NOT NULL, value INTEGER NOT NULL)");
            _value = Context.Storage.Get<long>("value");
            return Task.CompletedTask;
        });

    protected override Task AlarmAsync(AlarmInvocation invocation, CancellationToken cancellationToken)
    {
        LogReset(logger, Context.Id, invocation.ScheduledTime, invocation.RetryCount);
        _value = 0;
        Context.Storage.Put("value", 0L);
        return Task.CompletedTask;
    }

    [LoggerMessage(LogLevel.Information, "Resetting counter {Id} (alarm set for {Time:O}, retry {Retry})")]
    private static partial void LogReset(ILogger logger, DurableObjectId id, DateTimeOffset time, int retry);
}
