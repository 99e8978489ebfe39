using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Containers;

public abstract partial class Container
{
    /// <summary>
    /// The start path's warm-pool hook: claims a prewarmed container of this class whose spec matches
    /// <paramref name="spec"/> but for the object's identity (see <see cref="WarmPool"/>). A miss, or any failure of the
    /// pool, leaves the cold start to the caller.
    /// </summary>
    /// <returns>The claimed container's ID, unpaused and recorded as this object's; or <see langword="null"/>.</returns>
    private async Task<string?> TryClaimPrewarmedAsync(ContainerSpec spec, CancellationToken cancellationToken)
    {
        if (_class.Options.PrewarmedInstances <= 0 || ServiceProvider.GetService<WarmPool>() is not { } pool)
        {
            return null;
        }

        try
        {
            return await pool.TryClaimAsync(_class.Options, spec, Context.Id.ToString(), Context.Name, cancellationToken);
        }
        catch (Exception ex) when (ex is ContainerRuntimeException or IOException or OperationCanceledException)
        {
            Log.ClaimSkipped(_logger, ClassName, ObjectName, ex.Message);
            return null;
        }
    }

    /// <summary>The capacity hook: at <c>max_instances</c>, a ready prewarmed container gives its slot to this start.</summary>
    private async Task<bool> TryTakeWarmPoolSlotAsync()
    {
        if (_class.Options.PrewarmedInstances <= 0 || ServiceProvider.GetService<WarmPool>() is not { } pool)
        {
            return false;
        }

        return await pool.TryTakeSlotAsync(ClassName, CancellationToken.None);
    }
}
