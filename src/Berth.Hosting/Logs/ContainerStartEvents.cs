using Berth.Containers;

namespace Berth.Hosting;

/// <summary>
/// Tells live-log followers about containers this node's objects start (the change to <see cref="ContainerObjectState.Running"/>
/// or <see cref="ContainerObjectState.Healthy"/>), so they follow a new container's output from its start. Registered as an
/// <see cref="IContainerStateObserver"/>: it only copies the change to the followers' callbacks, which must not block.
/// </summary>
internal sealed class ContainerStartEvents : IContainerStateObserver
{
    private readonly Lock _gate = new();
    private Action<ContainerStateChange>[] _followers = [];

    public void OnStateChanged(ContainerStateChange change)
    {
        if (change is not { State: ContainerObjectState.Running or ContainerObjectState.Healthy, ContainerId: not null })
        {
            return;
        }

        foreach (var follower in Volatile.Read(ref _followers))
        {
            follower(change);
        }
    }

    /// <summary>Calls <paramref name="follower"/> on every container start until the result is disposed.</summary>
    public IDisposable Subscribe(Action<ContainerStateChange> follower)
    {
        lock (_gate)
        {
            _followers = [.. _followers, follower];
        }

        return new Subscription(this, follower);
    }

    private sealed class Subscription(ContainerStartEvents events, Action<ContainerStateChange> follower) : IDisposable
    {
        public void Dispose()
        {
            lock (events._gate)
            {
                events._followers = [.. events._followers.Where(f => !ReferenceEquals(f, follower))];
            }
        }
    }
}
