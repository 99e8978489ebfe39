namespace Berth.Runtime;

/// <summary>
/// Runs commands in running containers and reads their output and resource use: the exec, logs and stats part of <see cref="IContainerRuntime"/>.
/// Every operation is async, cancellable and fails with a <see cref="ContainerRuntimeException"/>.
/// </summary>
public interface IContainerExecOperations
{
    /// <summary>Runs a command in a running container, wiring its streams, and returns its exit code.</summary>
    Task<int> ExecAsync(string containerId, ExecSpec spec, ExecStreams streams, CancellationToken cancellationToken = default);

    /// <summary>Reads a container's output.</summary>
    IAsyncEnumerable<LogLine> GetLogsAsync(string containerId, LogOptions options, CancellationToken cancellationToken = default);

    /// <summary>Samples a container's CPU, memory and network use.</summary>
    Task<ContainerStats> GetStatsAsync(string containerId, CancellationToken cancellationToken = default);
}
