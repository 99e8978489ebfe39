namespace Berth.Objects.TestHost;

[GenerateSerializer]
public sealed record FiredAlarm([property: Id(0)] long ScheduledMs, [property: Id(1)] long FiredMs, [property: Id(2)] int RetryCount);

public interface IProbeObject : IDurableObject
{
    Task PutAsync(string key, string value);

    Task<string?> GetAsync(string key);

    Task SetAlarmAsync(DateTimeOffset time);

    Task<FiredAlarm[]> FiredAsync();
}

public sealed class ProbeObject : DurableObject, IProbeObject
{
    public Task PutAsync(string key, string value)
    {
        Context.Storage.Put(key, value);
        return Task.CompletedTask;
    }

    public Task<string?> GetAsync(string key) => Task.FromResult(Context.Storage.Get<string>(key));

    public Task SetAlarmAsync(DateTimeOffset time)
    {
        Context.SetAlarm(time);
        return Task.CompletedTask;
    }

    public Task<FiredAlarm[]> FiredAsync() => Task.FromResult(Context.Storage.Get<FiredAlarm[]>("fired") ?? []);

    protected override Task AlarmAsync(AlarmInvocation invocation, CancellationToken cancellationToken)
    {
        var fired = Context.Storage.Get<FiredAlarm[]>("fired") ?? [];
        Context.Storage.Put("fired", fired.Append(new FiredAlarm(
            invocation.ScheduledTime.ToUnixTimeMilliseconds(),
            Context.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds(),
            invocation.RetryCount)).ToArray());
        return Task.CompletedTask;
    }
}
