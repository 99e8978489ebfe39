using Berth.Containers;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;

namespace Berth.Cluster.Failover;

/// <summary>
/// In a PostgreSQL cluster, removes a dead node's containers from the engine this node shares with it (issue 16 §6). Once the
/// silo is active, the node records its engine's ID in <c>berth_nodes</c>, then follows Orleans' membership: for every silo
/// declared dead whose node ID (its silo name) has no live silo, it compares the dead node's recorded engine with its own and,
/// when they are the same, claims the dead silo in <c>berth_node_cleanups</c> (one survivor wins) and hands every container
/// labelled with the dead node's ID to its object through <see cref="ContainerHandover"/>, which removes those the objects do
/// not keep (none: an object never adopts a container another node started). Failures are retried every
/// <see cref="RetryInterval"/>; an unfinished claim of a survivor that died expires after <see cref="ClaimLease"/>.
/// </summary>
internal sealed class DeadNodeContainers(
    BerthClusterSettings settings,
    IClusterMembershipService membership,
    IServiceProvider services,
    IOptions<ContainerOptions> containers,
    IOptions<ClusterOptions> cluster,
    TimeProvider time,
    ILogger<DeadNodeContainers> logger) : ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    /// <summary>How long a failed step waits before the next try: 10 seconds.</summary>
    internal static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(10);

    /// <summary>How long a claim keeps other survivors out: 2 minutes.</summary>
    internal static readonly TimeSpan ClaimLease = TimeSpan.FromMinutes(2);

    private readonly CancellationTokenSource _stop = new();
    private DeadNodeStore? _store;
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DeadNodeContainers), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        var handover = services.GetService<ContainerHandover>();
        var engine = services.GetService<IContainerEngineIdentity>();
        if (!settings.RemoveDeadNodeContainers || handover is null || engine is null)
        {
            Log.DeadNodeCleanupOff(logger, settings.RemoveDeadNodeContainers ? "this node has no container engine identity" : $"{BerthClusterSettings.RemoveDeadNodeContainersKey} is false");
            return Task.CompletedTask;
        }

        _store = new DeadNodeStore(settings.Connection!, cluster.Value.ClusterId);
        _loop = RunAsync(_store, handover, engine, _stop.Token);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task RunAsync(DeadNodeStore store, ContainerHandover handover, IContainerEngineIdentity engine, CancellationToken cancellationToken)
    {
        // Off the silo's start: the loop runs for the node's life.
        await Task.Yield();
        var nodeId = containers.Value.NodeId;
        try
        {
            var engineId = await RecordEngineAsync(store, engine, nodeId, cancellationToken);
            Log.DeadNodeCleanupStarted(logger, nodeId, engineId);
            var finished = new HashSet<SiloAddress>();
            await using var updates = membership.MembershipUpdates.GetAsyncEnumerator(cancellationToken);
            Task<bool>? next = null;
            while (true)
            {
                var pending = false;
                foreach (var dead in DeadNodePlan.ToHandOver(membership.CurrentSnapshot.Members.Values, nodeId, finished))
                {
                    if (await HandleAsync(store, handover, dead, nodeId, engineId, cancellationToken))
                    {
                        finished.Add(dead.SiloAddress);
                    }
                    else
                    {
                        pending = true;
                    }
                }

                next ??= updates.MoveNextAsync().AsTask();
                if (pending)
                {
                    await Task.WhenAny(next, Task.Delay(RetryInterval, time, cancellationToken));
                }
                else
                {
                    await next;
                }

                if (next.IsCompleted)
                {
                    if (!await next)
                    {
                        return;
                    }

                    next = null;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Records this node's engine in <c>berth_nodes</c>, retrying until the engine and the database answer.</summary>
    private async Task<string> RecordEngineAsync(DeadNodeStore store, IContainerEngineIdentity engine, string nodeId, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                var engineId = await engine.GetEngineIdAsync(cancellationToken);
                await store.RecordEngineAsync(nodeId, engineId, cancellationToken);
                return engineId;
            }
            catch (Exception ex) when (ex is ContainerRuntimeException or Npgsql.NpgsqlException or TimeoutException)
            {
                Log.EngineIdUnavailable(logger, RetryInterval, ex.Message);
                await Task.Delay(RetryInterval, time, cancellationToken);
            }
        }
    }

    /// <summary>Handles one dead silo; true when it is finished with (done here, by another survivor, or ruled out), false to try again.</summary>
    private async Task<bool> HandleAsync(DeadNodeStore store, ContainerHandover handover, ClusterMember dead, string nodeId, string engineId, CancellationToken cancellationToken)
    {
        var deadNode = dead.Name;
        var silo = dead.SiloAddress.ToParsableString();
        var claimed = false;
        try
        {
            var deadEngine = await store.EngineOfAsync(deadNode, cancellationToken);
            if (deadEngine != engineId)
            {
                // Not this node's to remove: the dead node's own reconciler does it when it comes back (or a survivor on its engine).
                Log.DeadNodeOnOtherEngine(logger, deadNode, silo, deadEngine.Length == 0 ? "(none recorded)" : deadEngine);
                return true;
            }

            switch (await store.TryClaimAsync(silo, deadNode, nodeId, ClaimLease, cancellationToken))
            {
                case DeadNodeClaim.Done:
                    Log.DeadNodeSkipped(logger, deadNode, silo, "a survivor already handled its containers");
                    return true;
                case DeadNodeClaim.HeldByOther:
                    Log.DeadNodeSkipped(logger, deadNode, silo, "another survivor is handling its containers");
                    return false;
            }

            claimed = true;
            if (await store.HasLiveSiloAsync(deadNode, cancellationToken))
            {
                // The node came back with the same data directory: its own reconciler hands its containers over.
                Log.DeadNodeSkipped(logger, deadNode, silo, "its node ID has a live silo again");
                await store.CompleteAsync(silo, nodeId, 0, cancellationToken);
                return true;
            }

            var left = await handover.ListNodeAsync(deadNode, cancellationToken);
            Log.DeadNodeHandingOver(logger, deadNode, silo, left.Count);
            var result = await handover.HandOverAsync(left, poolOwner: null, cancellationToken);
            if (result.Failed > 0)
            {
                Log.DeadNodeContainersLeft(logger, deadNode, result.Failed, RetryInterval);
                await store.ReleaseAsync(silo, nodeId, result.Removed, cancellationToken);
                return false;
            }

            await store.CompleteAsync(silo, nodeId, result.Removed, cancellationToken);
            Log.DeadNodeContainersRemoved(logger, deadNode, silo, result.Removed, result.Kept);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.DeadNodeCleanupFailed(logger, ex, deadNode, silo, RetryInterval);
            if (claimed)
            {
                try
                {
                    await store.ReleaseAsync(silo, nodeId, 0, cancellationToken);
                }
                catch (Exception release) when (release is Npgsql.NpgsqlException or TimeoutException)
                {
                    // The lease runs out by itself.
                }
            }

            return false;
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        // Registered as more than one service, so the container disposes it more than once: only the first counts.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }
}
