using Berth.Runtime;
using Orleans.Concurrency;

namespace Berth.Containers;

/// <summary>
/// The long operations on a container object. Each runs as work the object owns, bounded by the deadlines the user
/// configured (<see cref="ContainerOptions.InstanceStartTimeout"/>, <see cref="ContainerOptions.PortReadyTimeout"/>,
/// <see cref="ContainerOptions.StopGracePeriod"/>); the caller waits in slices of <see cref="ContainerOptions.CallSlice"/>,
/// so no RPC response timeout cuts it, and a caller that gives up (its token is cancelled) does not cancel the work.
/// </summary>
public static class ContainerCalls
{
    /// <summary>
    /// Starts the container if it does not run and waits until <paramref name="port"/> (0 for the default port) and the
    /// required ports listen. Never throws for a start failure: the result names it.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the start goes on for the object).</exception>
    public static async Task<ContainerReadyResult> EnsureReadyAsync(this IContainer container, int port, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        return await WaitAsync(container, new ContainerReadyRequest(port, null, null, true, 0), cancellationToken);
    }

    /// <summary>As <see cref="EnsureReadyAsync(IContainer, int, CancellationToken)"/>, from the gateway of node <paramref name="callerNode"/>.</summary>
    internal static async Task<ContainerReadyResult> EnsureReadyFromNodeAsync(this IContainer container, int port, string callerNode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(container);
        return await WaitAsync(container, new ContainerReadyRequest(port, null, null, true, 0, callerNode), cancellationToken);
    }

    /// <summary>Starts the container without waiting for its ports.</summary>
    /// <exception cref="ContainerStartException">The container could not be started.</exception>
    public static async Task StartAsync(this IContainer container, ContainerStartOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        ThrowIfFailed(await WaitAsync(container, new ContainerReadyRequest(0, null, options, false, 0), cancellationToken));
    }

    /// <summary>Starts the container and waits until the ports (or the required ports) accept connections.</summary>
    /// <exception cref="ContainerStartException">The container could not be made ready.</exception>
    public static async Task StartAndWaitForPortsAsync(this IContainer container, IReadOnlyList<int>? ports = null, ContainerStartOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        ThrowIfFailed(await WaitAsync(container, new ContainerReadyRequest(0, ports, options, true, 0), cancellationToken));
    }

    /// <summary>
    /// Sends <paramref name="signal"/>, then SIGKILL after <see cref="ContainerOptions.StopGracePeriod"/>, and waits for the exit
    /// however long the grace is. The stop is recorded as <see cref="StopReason.Requested"/>.
    /// </summary>
    public static async Task StopAsync(this IContainer container, ContainerSignal signal = ContainerSignal.SIGTERM, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        long generation = 0;
        while (true)
        {
            var slice = await container.StopSliceAsync(signal, generation, cancellationToken);
            if (slice.Done)
            {
                return;
            }

            generation = slice.Generation;
        }
    }

    private static async Task<ContainerReadyResult> WaitAsync(IContainer container, ContainerReadyRequest request, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var slice = await container.WaitReadySliceAsync(request, cancellationToken);
            if (slice.Result is { } result)
            {
                return result;
            }

            request = request with { Generation = slice.Generation };
        }
    }

    private static void ThrowIfFailed(ContainerReadyResult result)
    {
        if (result.Error != ContainerReadyError.None)
        {
            throw new ContainerStartException(result.Error, result.Message ?? "The container could not be started.");
        }
    }
}
