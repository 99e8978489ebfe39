using Berth.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Berth.Containers;

/// <summary>
/// When the node becomes active, hands every container an earlier run of this node left behind to the
/// object that owns it (which adopts or removes it) and removes containers of classes no longer registered.
/// Only containers labelled with this node's <see cref="ContainerOptions.NodeId"/> are touched: another node of
/// the same app on the same engine keeps its containers.
/// </summary>
internal sealed class ContainerReconciler(
    ContainerHandover handover,
    WarmPool warmPool,
    IOptions<ContainerOptions> options,
    ILogger<ContainerReconciler> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ContainerReconciler), ServiceLifecycleStage.Active, ReconcileAsync, _ => Task.CompletedTask);

    internal async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<ContainerSummary> leftovers;
        try
        {
            leftovers = await handover.ListNodeAsync(options.Value.NodeId, cancellationToken);
        }
        catch (ContainerRuntimeException ex)
        {
            // The engine may come back later; objects then decide on their next request.
            Log.ReconcileFailed(logger, ex.Message);
            return;
        }

        // Claims and identity directories of prewarmed containers that are gone.
        warmPool.Claims.Prune(leftovers);
        if (leftovers.Count == 0)
        {
            return;
        }

        Log.Reconciling(logger, leftovers.Count);
        await handover.HandOverAsync(
            leftovers,
            container => warmPool.Claims.OwnerOf(container.Id) is { } claim && claim.ClassName == BerthNames.Label(container.Labels, BerthLabels.Class) ? claim.ObjectId : null,
            cancellationToken);
    }
}
