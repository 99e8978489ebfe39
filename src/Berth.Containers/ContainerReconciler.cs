using Berth.Objects;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
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
    IContainerOperations runtime,
    IServiceProvider services,
    ContainerClassRegistry classes,
    WarmPool warmPool,
    IOptions<ContainerOptions> options,
    ILogger<ContainerReconciler> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ContainerReconciler), ServiceLifecycleStage.Active, ReconcileAsync, _ => Task.CompletedTask);

    internal async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        IReadOnlyList<ContainerSummary> leftovers;
        try
        {
            leftovers = await runtime.ListAsync(BerthNames.ForNode(settings.AppName, settings.NodeId), cancellationToken);
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
        await Parallel.ForEachAsync(leftovers, new ParallelOptions { MaxDegreeOfParallelism = settings.ReconcileParallelism, CancellationToken = cancellationToken }, async (container, ct) =>
        {
            var className = BerthNames.Label(container.Labels, BerthLabels.Class);
            var objectId = BerthNames.Label(container.Labels, BerthLabels.ObjectId);
            if (objectId.Length == 0 && BerthNames.Label(container.Labels, BerthLabels.WarmPool) == "1")
            {
                // A prewarmed container carries no object label: the node's claim table names its one owner, if any.
                if (warmPool.Claims.OwnerOf(container.Id) is not { } claim || claim.ClassName != className)
                {
                    Log.PoolLeftoverRemoved(logger, container.Id[..12]);
                    await runtime.RemoveAsync(container.Id, ct);
                    return;
                }

                objectId = claim.ObjectId;
            }

            if (!classes.TryGet(className, out var containerClass) || objectId.Length == 0)
            {
                Log.UnknownClassRemoved(logger, container.Id[..12], className);
                await runtime.RemoveAsync(container.Id, ct);
                return;
            }

            if (!DurableObjectId.TryParse(objectId, out var id))
            {
                Log.UnknownClassRemoved(logger, container.Id[..12], className);
                await runtime.RemoveAsync(container.Id, ct);
                return;
            }

            var owner = services.GetRequiredKeyedService<DurableObjectNamespace<IContainer>>(containerClass.Options.ClassName).Get(id);
            await owner.AsReference<IContainerLifecycle>().AdoptAsync(container.Id, ct);
        });
    }
}
