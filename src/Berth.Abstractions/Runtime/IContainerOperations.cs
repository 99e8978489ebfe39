namespace Berth.Runtime;

/// <summary>
/// Creates, runs, signals, stops and removes containers: the lifecycle part of <see cref="IContainerRuntime"/>.
/// Every operation is async, cancellable and fails with a <see cref="ContainerRuntimeException"/>.
/// </summary>
public interface IContainerOperations
{
    /// <summary>Creates a container (not started) and returns its ID.</summary>
    Task<string> CreateAsync(ContainerSpec spec, CancellationToken cancellationToken = default);

    /// <summary>Starts a created or stopped container.</summary>
    Task StartAsync(string containerId, CancellationToken cancellationToken = default);

    /// <summary>Inspects a container; <see langword="null"/> when it does not exist.</summary>
    Task<ContainerInspection?> InspectAsync(string containerId, CancellationToken cancellationToken = default);

    /// <summary>Waits until the container's main process exits and says how.</summary>
    Task<ContainerExit> WaitForExitAsync(string containerId, CancellationToken cancellationToken = default);

    /// <summary>Sends <paramref name="signal"/> to the main process.</summary>
    Task SignalAsync(string containerId, ContainerSignal signal, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends <see cref="StopOptions.Signal"/>, waits up to <see cref="StopOptions.GracePeriod"/> for the
    /// process to exit, then sends SIGKILL. Returns how the container exited.
    /// </summary>
    Task<ContainerExit> StopAsync(string containerId, StopOptions options, CancellationToken cancellationToken = default);

    /// <summary>Removes a container, killing it first if it runs. Succeeds if it is already gone.</summary>
    Task RemoveAsync(string containerId, CancellationToken cancellationToken = default);

    /// <summary>Lists containers, running or not, that carry all the given labels (a value of <c>*</c> matches any value).</summary>
    Task<IReadOnlyList<ContainerSummary>> ListAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default);

    /// <summary>
    /// Freezes every process of a running container (the engine's pause: the cgroup freezer). Its memory, sockets and
    /// listening ports stay; nothing it runs gets CPU time until <see cref="UnpauseAsync"/>. Used by the warm pool.
    /// </summary>
    /// <exception cref="ContainerRuntimeException">The container is not running or is gone; or a driver without pause
    /// (the default implementation) answers <see cref="ContainerRuntimeError.Conflict"/>.</exception>
    Task PauseAsync(string containerId, CancellationToken cancellationToken = default) =>
        throw new ContainerRuntimeException(ContainerRuntimeError.Conflict, $"This container runtime cannot pause container {containerId}.");

    /// <summary>Thaws a container frozen by <see cref="PauseAsync"/>; its processes resume where they were.</summary>
    /// <exception cref="ContainerRuntimeException">The container is not paused or is gone; or a driver without pause
    /// (the default implementation) answers <see cref="ContainerRuntimeError.Conflict"/>.</exception>
    Task UnpauseAsync(string containerId, CancellationToken cancellationToken = default) =>
        throw new ContainerRuntimeException(ContainerRuntimeError.Conflict, $"This container runtime cannot unpause container {containerId}.");
}
