using System.Collections.Concurrent;
using System.Text;
using Berth.Containers;
using Berth.Objects;

namespace Berth.Gateway.Tests;

/// <summary>What the hooks of the test containers saw, one log per test host.</summary>
public sealed class HookLog
{
    private int _starts;

    public int Starts => Volatile.Read(ref _starts);

    public ConcurrentQueue<ContainerStopInfo> Stops { get; } = new();

    public ConcurrentQueue<Exception> Errors { get; } = new();

    internal void Started() => Interlocked.Increment(ref _starts);
}

/// <summary>The test app on port 8080, recording every hook call.</summary>
public sealed class AppContainer : Container
{
    private readonly HookLog _hooks;

    public AppContainer(HookLog hooks)
    {
        _hooks = hooks;
        DefaultPort = 8080;
    }

    protected override Task OnStartAsync(CancellationToken cancellationToken)
    {
        _hooks.Started();
        return Task.CompletedTask;
    }

    protected override Task OnStopAsync(ContainerStopInfo stop, CancellationToken cancellationToken)
    {
        _hooks.Stops.Enqueue(stop);
        return Task.CompletedTask;
    }

    protected override Task OnErrorAsync(Exception error, CancellationToken cancellationToken)
    {
        _hooks.Errors.Enqueue(error);
        return Task.CompletedTask;
    }
}

/// <summary>
/// The seed's pattern: state lives in the container while it runs, is saved to the object's storage
/// before it sleeps and handed back to the next container when it starts.
/// </summary>
public sealed class StatefulContainer : Container
{
    private const string StateKey = "state";

    public StatefulContainer() => DefaultPort = 8080;

    protected override async Task OnStartAsync(CancellationToken cancellationToken)
    {
        if (Context.Storage.Get<string>(StateKey) is { } saved)
        {
            await ContainerFetchAsync(new FetchRequest("POST", "/state") { Body = Encoding.UTF8.GetBytes(saved) }, cancellationToken: cancellationToken);
        }
    }

    protected override async Task OnActivityExpiredAsync(CancellationToken cancellationToken)
    {
        var response = await ContainerFetchAsync(new FetchRequest("GET", "/state"), cancellationToken: cancellationToken);
        Context.Storage.Put(StateKey, Encoding.UTF8.GetString(response.Body));
        await base.OnActivityExpiredAsync(cancellationToken);
    }
}

/// <summary>Typed RPC into a container object, and schedules on top of its alarm.</summary>
public interface ITickingContainer : IContainer
{
    Task StartTickingAsync(TimeSpan every);

    Task<int> TicksAsync();
}

public sealed class TickingContainer : Container, ITickingContainer
{
    public TickingContainer() => DefaultPort = 8080;

    public Task StartTickingAsync(TimeSpan every)
    {
        ScheduleEvery(every, nameof(TickAsync), "tick");
        return Task.CompletedTask;
    }

    public Task<int> TicksAsync() => Task.FromResult(Context.Storage.Get<int>("ticks"));

    public Task TickAsync(string? payload)
    {
        if (payload == "tick")
        {
            Context.Storage.Put("ticks", Context.Storage.Get<int>("ticks") + 1);
        }

        return Task.CompletedTask;
    }
}
