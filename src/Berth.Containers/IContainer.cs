using Berth.Objects;
using Orleans.Concurrency;

namespace Berth.Containers;

/// <summary>Options for one start, overriding the class's defaults (the seed's <c>customBoot</c> pattern).</summary>
[GenerateSerializer, Immutable]
public sealed record ContainerStartOptions
{
    /// <summary>Extra environment variables for this start.</summary>
    [Id(0)]
    public IReadOnlyDictionary<string, string>? EnvVars { get; init; }

    /// <summary>Entrypoint for this start.</summary>
    [Id(1)]
    public IReadOnlyList<string>? Entrypoint { get; init; }

    /// <summary>Internet access for this start.</summary>
    [Id(2)]
    public bool? EnableInternet { get; init; }
}

/// <summary>
/// A durable object that owns one container. Call it with types from the gateway; the gateway's
/// data plane forwards HTTP straight to the container once <see cref="EnsureReadyAsync"/> answers.
/// </summary>
public interface IContainer : IDurableObject
{
    /// <summary>Starts the container if it does not run and waits until <paramref name="port"/> and the required ports listen.</summary>
    Task<ContainerReadyResult> EnsureReadyAsync(int port, CancellationToken cancellationToken = default);

    /// <summary>Starts the container without waiting for its ports.</summary>
    Task StartAsync(ContainerStartOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Starts the container and waits until the ports (or the required ports) accept connections.</summary>
    /// <exception cref="ContainerStartException">The container could not be made ready.</exception>
    Task StartAndWaitForPortsAsync(IReadOnlyList<int>? ports = null, ContainerStartOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Sends <paramref name="signal"/>, then SIGKILL after the stop grace period, and waits for the exit.</summary>
    Task StopAsync(string signal = "SIGTERM", CancellationToken cancellationToken = default);

    /// <summary>Kills and removes the container at once.</summary>
    Task DestroyAsync(CancellationToken cancellationToken = default);

    /// <summary>Sends a signal to the container's main process.</summary>
    Task SignalAsync(string signal, CancellationToken cancellationToken = default);

    /// <summary>Runs a command in the running container and returns its output and exit code.</summary>
    [AlwaysInterleave]
    Task<ContainerExecResult> ExecAsync(IReadOnlyList<string> command, byte[]? stdin = null, CancellationToken cancellationToken = default);

    /// <summary>Completes when the current container exits; at once with the last exit when none runs.</summary>
    [AlwaysInterleave]
    Task<ContainerStopInfo?> MonitorAsync(CancellationToken cancellationToken = default);

    /// <summary>The container's state as persisted in the object's storage.</summary>
    [AlwaysInterleave]
    Task<ContainerStatusInfo> GetStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Sends an HTTP request to the container on <paramref name="port"/> (the default port when null), starting it if needed.</summary>
    Task<FetchResponse> ContainerFetchAsync(FetchRequest request, int? port = null, CancellationToken cancellationToken = default);
}

/// <summary>Calls the platform makes on a container object; not for users.</summary>
internal interface IContainerLifecycle : IGrainWithStringKey
{
    Task OnContainerExitedAsync(string containerId, int exitCode, bool oomKilled);

    Task AdoptAsync(string containerId);

    /// <summary>Checks that the container still runs after the gateway failed to reach it, and records its exit when not.</summary>
    /// <returns><see langword="false"/> when that container is dead (its exit is recorded and its lease closed, so the next start makes a fresh one).</returns>
    Task<bool> CheckAliveAsync(string containerId, CancellationToken cancellationToken);
}
