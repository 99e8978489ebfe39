using Berth.Objects;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Berth.Containers;

/// <summary>What <see cref="ContainerHandover.HandOverAsync"/> did with the containers it was given.</summary>
/// <param name="Kept">Containers their object kept as its current container.</param>
/// <param name="Removed">Containers removed: their object did not keep them, or they have no object (unknown class, unclaimed prewarmed container).</param>
/// <param name="Failed">Containers left as they were because their object could not be reached or the engine failed; a later handover can try again.</param>
public readonly record struct ContainerHandoverResult(int Kept, int Removed, int Failed);

/// <summary>
/// Hands containers a node left behind to the objects that own them, and removes those no object keeps. The node's own
/// reconciler runs it for its leftovers when it starts; in a cluster, a survivor runs it for a dead node's containers on an
/// engine they share. The object decides: it keeps a container only if it is its current one and it runs on the node that
/// started it (an object that moved to another node does not adopt its old container). Whatever the object does not keep is
/// removed here too, so a container is removed even when its object now lives on a node with another engine.
/// </summary>
public sealed class ContainerHandover
{
    private readonly IContainerOperations _runtime;
    private readonly IServiceProvider _services;
    private readonly ContainerClassRegistry _classes;
    private readonly IOptions<ContainerOptions> _options;
    private readonly ILogger<ContainerHandover> _logger;

    /// <summary>Creates the handover; resolved from the node's services.</summary>
    /// <param name="runtime">The node's engine.</param>
    /// <param name="services">Resolves each class's object namespace.</param>
    /// <param name="classes">The container classes this node runs.</param>
    /// <param name="options">The node's settings (app name, handover parallelism <see cref="ContainerOptions.ReconcileParallelism"/>).</param>
    /// <param name="logger">Where removals and failures are logged.</param>
    public ContainerHandover(IContainerOperations runtime, IServiceProvider services, ContainerClassRegistry classes, IOptions<ContainerOptions> options, ILogger<ContainerHandover> logger)
    {
        _runtime = runtime;
        _services = services;
        _classes = classes;
        _options = options;
        _logger = logger;
    }

    /// <summary>Lists the containers of this app that node <paramref name="nodeId"/> started (label <see cref="BerthLabels.Node"/>), running or not.</summary>
    /// <param name="nodeId">A node ID.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ContainerRuntimeException">The engine failed.</exception>
    public Task<IReadOnlyList<ContainerSummary>> ListNodeAsync(string nodeId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        var labels = BerthNames.ForNode(_options.Value.AppName, nodeId);
        if (_options.Value.ExtraLabels.TryGetValue(BerthLabels.Cluster, out var cluster))
        {
            // In a cluster, only this cluster's: another cluster on the same engine may use the same app name and node ID.
            labels[BerthLabels.Cluster] = cluster;
        }

        return _runtime.ListAsync(labels, cancellationToken);
    }

    /// <summary>
    /// Hands each container to its owning object (which adopts it or removes it) and removes it here unless the object kept it.
    /// A prewarmed container (no <see cref="BerthLabels.ObjectId"/>) goes to the object <paramref name="poolOwner"/> names, or
    /// is removed; a container of a class this node does not run, or without a valid object ID, is removed.
    /// </summary>
    /// <param name="containers">Containers of this app, typically from <see cref="ListNodeAsync"/>.</param>
    /// <param name="poolOwner">The object ID that claimed a prewarmed container, or <see langword="null"/> (none or unknown).</param>
    /// <param name="cancellationToken">Cancels the handover; containers not yet handed over are left as they are.</param>
    /// <returns>How many were kept, removed, or left because of a failure (each failure is logged).</returns>
    public async Task<ContainerHandoverResult> HandOverAsync(
        IReadOnlyList<ContainerSummary> containers, Func<ContainerSummary, string?>? poolOwner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(containers);
        int kept = 0, removed = 0, failed = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.Value.ReconcileParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(containers, parallel, async (container, ct) =>
        {
            try
            {
                if (await HandOverOneAsync(container, poolOwner, ct))
                {
                    Interlocked.Increment(ref kept);
                }
                else
                {
                    Interlocked.Increment(ref removed);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref failed);
                Log.HandoverFailed(_logger, ex, ShortId(container.Id), BerthNames.Label(container.Labels, BerthLabels.Class), BerthNames.Label(container.Labels, BerthLabels.ObjectId));
            }
        });

        return new ContainerHandoverResult(kept, removed, failed);
    }

    /// <summary>Hands one container over; true when its object kept it.</summary>
    private async Task<bool> HandOverOneAsync(ContainerSummary container, Func<ContainerSummary, string?>? poolOwner, CancellationToken cancellationToken)
    {
        var className = BerthNames.Label(container.Labels, BerthLabels.Class);
        var objectId = BerthNames.Label(container.Labels, BerthLabels.ObjectId);
        if (objectId.Length == 0 && BerthNames.Label(container.Labels, BerthLabels.WarmPool) == "1")
        {
            // A prewarmed container carries no object label: only its node's claim table names its one owner, if any.
            if (poolOwner?.Invoke(container) is not { Length: > 0 } claimedBy)
            {
                Log.PoolLeftoverRemoved(_logger, ShortId(container.Id));
                await _runtime.RemoveAsync(container.Id, cancellationToken);
                return false;
            }

            objectId = claimedBy;
        }

        if (!_classes.TryGet(className, out var containerClass) || !DurableObjectId.TryParse(objectId, out var id))
        {
            Log.UnknownClassRemoved(_logger, ShortId(container.Id), className);
            await _runtime.RemoveAsync(container.Id, cancellationToken);
            return false;
        }

        var owner = _services.GetRequiredKeyedService<DurableObjectNamespace<IContainer>>(containerClass.Options.ClassName).Get(id);
        await owner.AsReference<IContainerLifecycle>().AdoptAsync(container.Id, cancellationToken);
        var state = await owner.GetStateAsync(cancellationToken);
        if (state.ContainerId == container.Id && state.State is ContainerObjectState.Running or ContainerObjectState.Healthy or ContainerObjectState.Stopping)
        {
            return true;
        }

        // The object removed it through its own node's engine, which may not be this one: remove it here as well (a no-op when gone).
        await _runtime.RemoveAsync(container.Id, cancellationToken);
        return false;
    }

    private static string ShortId(string id) => id[..Math.Min(12, id.Length)];
}
