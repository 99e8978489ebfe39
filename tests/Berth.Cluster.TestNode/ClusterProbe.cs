using Berth.Containers;
using Berth.Objects;
using Microsoft.Extensions.Options;

namespace Berth.Cluster.TestNode;

/// <summary>Which node answered and which activation of the object it was.</summary>
[GenerateSerializer]
public sealed record ProbeAnswer([property: Id(0)] string Node, [property: Id(1)] string Activation, [property: Id(2)] long Calls);

/// <summary>An alarm the probe saw fire, and on which node.</summary>
[GenerateSerializer]
public sealed record ProbeAlarm([property: Id(0)] long ScheduledMs, [property: Id(1)] long FiredMs, [property: Id(2)] string Node);

public interface IClusterProbe : IDurableObject
{
    Task<ProbeAnswer> HitAsync();

    Task PutAsync(string key, string value);

    Task<string?> GetAsync(string key);

    Task SetAlarmAsync(DateTimeOffset time);

    Task<ProbeAlarm[]> FiredAsync();
}

public sealed class ClusterProbe : DurableObject, IClusterProbe
{
    private readonly string _activation = Guid.NewGuid().ToString("N");
    private long _calls;

    private string Node => ServiceProvider.GetRequiredService<IOptions<ContainerOptions>>().Value.NodeId;

    public Task<ProbeAnswer> HitAsync() => Task.FromResult(new ProbeAnswer(Node, _activation, ++_calls));

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

    public Task<ProbeAlarm[]> FiredAsync() => Task.FromResult(Context.Storage.Get<ProbeAlarm[]>("fired") ?? []);

    protected override Task AlarmAsync(AlarmInvocation invocation, CancellationToken cancellationToken)
    {
        var fired = Context.Storage.Get<ProbeAlarm[]>("fired") ?? [];
        Context.Storage.Put("fired", fired.Append(new ProbeAlarm(
            invocation.ScheduledTime.ToUnixTimeMilliseconds(), Context.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds(), Node)).ToArray());
        return Task.CompletedTask;
    }
}
