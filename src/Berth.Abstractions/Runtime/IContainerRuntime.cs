namespace Berth.Runtime;

/// <summary>
/// The one seam between Berth and whatever runs containers (the Docker engine today; other
/// OCI runtimes or microVMs later). Every operation is async, cancellable and fails with a
/// <see cref="ContainerRuntimeException"/> whose <see cref="ContainerRuntimeException.Error"/>
/// tells the caller what went wrong.
/// </summary>
public interface IContainerRuntime
{
    /// <summary>Checks that the engine answers; throws <see cref="ContainerRuntimeError.EngineUnavailable"/> otherwise.</summary>
    Task PingAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates a container (not started) and returns its ID.</summary>
    Task<string> CreateAsync(ContainerSpec spec, CancellationToken cancellationToken = default);

    /// <summary>Starts a created or stopped container.</summary>
    Task StartAsync(string containerId, CancellationToken cancellationToken = default);

    /// <summary>Inspects a container; <see langword="null"/> when it does not exist.</summary>
    Task<ContainerStatus?> InspectAsync(string containerId, CancellationToken cancellationToken = default);

    /// <summary>Waits until the container's main process exits and says how.</summary>
    Task<ContainerExit> WaitForExitAsync(string containerId, CancellationToken cancellationToken = default);

    /// <summary>Sends a signal (name such as <c>SIGTERM</c> or number) to the main process.</summary>
    Task SignalAsync(string containerId, string signal, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends <see cref="StopOptions.Signal"/>, waits up to <see cref="StopOptions.GracePeriod"/> for the
    /// process to exit, then sends SIGKILL. Returns how the container exited.
    /// </summary>
    Task<ContainerExit> StopAsync(string containerId, StopOptions options, CancellationToken cancellationToken = default);

    /// <summary>Removes a container, killing it first if it runs. Succeeds if it is already gone.</summary>
    Task RemoveAsync(string containerId, CancellationToken cancellationToken = default);

    /// <summary>Runs a command in a running container, wiring its streams, and returns its exit code.</summary>
    Task<long> ExecAsync(string containerId, ExecSpec spec, ExecStreams streams, CancellationToken cancellationToken = default);

    /// <summary>Reads a container's output.</summary>
    IAsyncEnumerable<LogLine> GetLogsAsync(string containerId, LogOptions options, CancellationToken cancellationToken = default);

    /// <summary>Samples a container's CPU, memory and network use.</summary>
    Task<ContainerStats> GetStatsAsync(string containerId, CancellationToken cancellationToken = default);

    /// <summary>Lists containers, running or not, that carry all the given labels (a value of <c>*</c> matches any value).</summary>
    Task<IReadOnlyList<ContainerSummary>> ListAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default);

    /// <summary>Creates the network if it does not exist; returns its ID.</summary>
    Task<string> EnsureNetworkAsync(NetworkSpec spec, CancellationToken cancellationToken = default);

    /// <summary>Lists networks that carry all the given labels.</summary>
    Task<IReadOnlyList<NetworkInfo>> ListNetworksAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default);

    /// <summary>Removes a network. Succeeds if it is already gone.</summary>
    Task RemoveNetworkAsync(string networkId, CancellationToken cancellationToken = default);

    /// <summary>Builds an image from a Dockerfile and context; reports build output lines to <paramref name="progress"/>.</summary>
    Task<ImageInfo> BuildImageAsync(ImageBuildSpec spec, IProgress<string>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Imports a root filesystem tarball as an image named <paramref name="reference"/>.</summary>
    Task<ImageInfo> ImportImageAsync(Stream rootfsTar, string reference, IReadOnlyDictionary<string, string>? labels = null, CancellationToken cancellationToken = default);

    /// <summary>Inspects an image; <see langword="null"/> when it does not exist.</summary>
    Task<ImageInfo?> InspectImageAsync(string reference, CancellationToken cancellationToken = default);

    /// <summary>Lists images that carry all the given labels.</summary>
    Task<IReadOnlyList<ImageInfo>> ListImagesAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default);

    /// <summary>Removes an image. Succeeds if it is already gone.</summary>
    Task RemoveImageAsync(string reference, bool force = false, CancellationToken cancellationToken = default);
}
