using Berth.Runtime;
using Orleans.Concurrency;

namespace Berth.Containers;

/// <summary>One bounded wait of a caller on a container object's start (see <see cref="IContainer.WaitReadySliceAsync"/>).</summary>
/// <param name="Port">Port the caller needs; 0 or less for the default port.</param>
/// <param name="Ports">Ports to wait for instead, or <see langword="null"/>.</param>
/// <param name="Options">Options of the start, if this call starts the container.</param>
/// <param name="WaitForPorts">Whether to wait for the ports, or only for the container to run.</param>
/// <param name="Generation">The start this caller already waits on (from the previous slice), or 0 for a new wait.</param>
[GenerateSerializer, Immutable]
public sealed record ContainerReadyRequest(
    [property: Id(0)] int Port,
    [property: Id(1)] IReadOnlyList<int>? Ports,
    [property: Id(2)] ContainerStartOptions? Options,
    [property: Id(3)] bool WaitForPorts,
    [property: Id(4)] long Generation);

/// <summary>The answer to one slice: the result, or <see langword="null"/> with the start to keep waiting on.</summary>
/// <param name="Result">The result once the start ended; <see langword="null"/> while it runs.</param>
/// <param name="Generation">The start in flight, to pass to the next slice.</param>
[GenerateSerializer, Immutable]
public sealed record ContainerReadySlice(
    [property: Id(0)] ContainerReadyResult? Result,
    [property: Id(1)] long Generation);

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

/// <summary>The answer to one slice of a stop.</summary>
/// <param name="Done">Whether the container stopped (or none ran).</param>
/// <param name="Generation">The stop in flight, to pass to the next slice.</param>
[GenerateSerializer, Immutable]
public sealed record ContainerStopSlice([property: Id(0)] bool Done, [property: Id(1)] long Generation);
