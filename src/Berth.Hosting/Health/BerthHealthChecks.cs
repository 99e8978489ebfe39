using Berth.Runtime;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Berth.Hosting;

/// <summary>
/// Liveness: the host process and its silo run. Fails when the silo is not active (starting, stopping, declared dead),
/// since such a node cannot serve an object. Tagged <see cref="BerthHealthExtensions.LiveTag"/>.
/// </summary>
internal sealed class SiloHealthCheck(ISiloStatusOracle silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = silo.CurrentStatus;
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy("The silo is active.")
            : HealthCheckResult.Unhealthy($"The silo is {status}, not Active."));
    }
}

/// <summary>Readiness: the Docker engine answers a ping within <see cref="BerthHealthOptions.EngineTimeout"/>.</summary>
internal sealed class EngineHealthCheck(IContainerRuntime runtime, IOptions<BerthHealthOptions> options, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var timeout = options.Value.EngineTimeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var timer = time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), deadline, timeout, Timeout.InfiniteTimeSpan);
        try
        {
            await runtime.PingAsync(deadline.Token);
            return HealthCheckResult.Healthy("The container engine answers.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"The container engine did not answer a ping within {timeout.TotalMilliseconds:0} ms.");
        }
        catch (ContainerRuntimeException ex)
        {
            return HealthCheckResult.Unhealthy(ex.Message);
        }
    }
}

/// <summary>
/// Readiness: every container class of the app's config file has its image (built or found at start-up). A class
/// whose image failed makes the node unhealthy with the build's reason; one still building makes it degraded.
/// A host without a config file builds nothing at start-up and passes.
/// </summary>
internal sealed class ImagesHealthCheck(ClassImageStatus images, BerthAppConfig? config = null) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (config is null)
        {
            return Task.FromResult(HealthCheckResult.Healthy("No config file: no images are built at start-up."));
        }

        if (!images.Started)
        {
            return Task.FromResult(HealthCheckResult.Degraded("The start-up image builds have not begun."));
        }

        var failed = images.Classes.Where(c => c.Failure is not null).Select(c => $"{c.ClassName}: {c.Failure}").ToList();
        var pending = images.Classes.Where(c => c.Pending).Select(c => c.ClassName).ToList();
        return Task.FromResult(
            failed.Count > 0 ? HealthCheckResult.Unhealthy($"No image for {string.Join("; ", failed)}")
            : pending.Count > 0 ? HealthCheckResult.Degraded($"Images still being built: {string.Join(", ", pending)}.")
            : HealthCheckResult.Healthy("Every container class has its image."));
    }
}
