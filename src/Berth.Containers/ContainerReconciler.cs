using Berth.Objects;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Berth.Containers;

/// <summary>
/// When the node becomes active, hands every container an earlier run left behind to the object
/// that owns it (which adopts or removes it) and removes containers of classes no longer registered.
/// </summary>
internal sealed class ContainerReconciler(
    IContainerRuntime runtime,
    IServiceProvider services,
    ContainerClassRegistry classes,
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
            leftovers = await runtime.ListAsync(
                new Dictionary<string, string> { [BerthLabels.Managed] = "1", [BerthLabels.App] = settings.AppName, [BerthLabels.Node] = settings.NodeName },
                cancellationToken);
        }
        catch (ContainerRuntimeException ex)
        {
            // The engine may come back later; objects then decide on their next request.
            Log.ReconcileFailed(logger, ex.Message);
            return;
        }

        if (leftovers.Count == 0)
        {
            return;
        }

        Log.Reconciling(logger, leftovers.Count);
        await Parallel.ForEachAsync(leftovers, new ParallelOptions { MaxDegreeOfParallelism = settings.ReconcileParallelism, CancellationToken = cancellationToken }, async (container, ct) =>
        {
            var className = container.Labels.GetValueOrDefault(BerthLabels.Class, "");
            var objectId = container.Labels.GetValueOrDefault(BerthLabels.ObjectId, "");
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
            await owner.AsReference<IContainerLifecycle>().AdoptAsync(container.Id);
        });
    }
}
