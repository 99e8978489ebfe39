using Berth.Objects;
using Berth.Runtime;
using Orleans.Concurrency;

namespace Berth.Containers;

/// <summary>
/// A durable object that owns one container. Call it with types from the gateway; the gateway's
/// data plane forwards HTTP straight to the container once <see cref="ContainerCalls.EnsureReadyAsync"/> answers.
/// </summary>
public interface IContainer : IDurableObject
{
    /// <summary>
    /// Waits at most <see cref="ContainerOptions.CallSlice"/> for the container to be started (and ready, when
    /// <see cref="ContainerReadyRequest.WaitForPorts"/>), starting it when none runs or starts. Call it through
    /// <see cref="ContainerCalls.EnsureReadyAsync"/>, which loops it until the start ends.
    /// </summary>
    [AlwaysInterleave]
    Task<ContainerReadySlice> WaitReadySliceAsync(ContainerReadyRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits at most <see cref="ContainerOptions.CallSlice"/> for a stop (signal, then SIGKILL after the grace) to end,
    /// starting it when a container runs and no stop is under way. Call it through <see cref="ContainerCalls.StopAsync"/>.
    /// </summary>
    [AlwaysInterleave]
    Task<ContainerStopSlice> StopSliceAsync(ContainerSignal signal, long generation, CancellationToken cancellationToken = default);

    /// <summary>Kills and removes the container at once.</summary>
    Task DestroyAsync(CancellationToken cancellationToken = default);

    /// <summary>Sends a signal to the container's main process.</summary>
    Task SignalAsync(ContainerSignal signal, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts a command in the running container and returns the ID of its exec session; pull its output with
    /// <see cref="ReadExecAsync"/> until a chunk says <see cref="ContainerExecChunk.Completed"/>. While the command runs the
    /// container counts as busy (it is not put to sleep). Its output waits in a buffer of <see cref="ContainerExecOptions.BufferBytes"/>;
    /// when the caller stops pulling, the command is back-pressured, and after <see cref="ContainerExecOptions.AbandonAfter"/>
    /// without a pull it is cancelled. It is cancelled as well after <see cref="ContainerExecOptions.Timeout"/>.
    /// Most callers want <see cref="ContainerExecExtensions.ExecAsync"/>, which does the pulling.
    /// </summary>
    /// <exception cref="ArgumentException">The command is empty or has an empty or null element.</exception>
    /// <exception cref="InvalidOperationException">No container runs, or <see cref="ContainerExecOptions.MaxConcurrentExecs"/> execs already run in it.</exception>
    [AlwaysInterleave]
    Task<Guid> StartExecAsync(ContainerExecRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns the output of exec session <paramref name="execId"/> that arrived since the last pull, waiting at most
    /// <see cref="ContainerExecOptions.PollWait"/> for some; the last chunk carries the exit code and ends the session.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such session (it completed, was cancelled or abandoned).</exception>
    /// <exception cref="TimeoutException">The command ran longer than <see cref="ContainerExecOptions.Timeout"/> and was cancelled.</exception>
    /// <exception cref="Berth.Runtime.ContainerRuntimeException">The engine failed the exec (for example, the container is gone).</exception>
    [AlwaysInterleave]
    Task<ContainerExecChunk> ReadExecAsync(Guid execId, CancellationToken cancellationToken = default);

    /// <summary>Cancels exec session <paramref name="execId"/> and drops its output; does nothing when it is gone.</summary>
    [AlwaysInterleave]
    Task CancelExecAsync(Guid execId, CancellationToken cancellationToken = default);

    /// <summary>Completes when the current container exits; at once with the last exit when none runs.</summary>
    [AlwaysInterleave]
    Task<ContainerStopInfo?> MonitorAsync(CancellationToken cancellationToken = default);

    /// <summary>The container's state as persisted in the object's storage.</summary>
    [AlwaysInterleave]
    Task<ContainerObjectStatus> GetStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Sends an HTTP request to the container on <paramref name="port"/> (the default port when null), starting it if needed.</summary>
    Task<FetchResponse> ContainerFetchAsync(FetchRequest request, int? port = null, CancellationToken cancellationToken = default);
}

/// <summary>Calls the platform makes on a container object; not for users.</summary>
internal interface IContainerLifecycle : IGrainWithStringKey
{
    /// <summary>The exit monitor saw <paramref name="containerId"/> exit.</summary>
    Task OnContainerExitedAsync(string containerId, int exitCode, bool oomKilled, CancellationToken cancellationToken = default);

    /// <summary>The reconciler found <paramref name="containerId"/> with this object's labels: adopt it if it is the current one, remove it otherwise.</summary>
    Task AdoptAsync(string containerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits at most <see cref="ContainerOptions.CallSlice"/> for a rollout's replacement of this object's container to end,
    /// starting it when the container runs a version other than <see cref="ContainerReplaceRequest.ToVersion"/>: its lease
    /// drains (in-flight requests, streams and WebSockets finish), then SIGTERM, then SIGKILL at the grace. Pass the answer's
    /// generation to the next slice.
    /// </summary>
    [AlwaysInterleave]
    Task<ContainerReplaceSlice> ReplaceSliceAsync(ContainerReplaceRequest request, long generation, CancellationToken cancellationToken = default);

    /// <summary>
    /// After the gateway failed to reach <paramref name="containerId"/> (connection refused or reset), checks that it is
    /// alive: its engine state, then its default port, then (bounded by <see cref="ContainerOptions.ExitSettleTimeout"/>)
    /// the exit the monitor reports. Returns <see langword="false"/> when it is dead or no longer the current container; the
    /// object has then recorded the exit and closed the lease, so the next <see cref="ContainerCalls.EnsureReadyAsync"/> starts a fresh one.
    /// </summary>
    Task<bool> CheckAliveAsync(string containerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Node <paramref name="node"/> forwards <paramref name="inFlight"/> requests to this object's container right now
    /// (<see cref="RemoteActivityTracker"/>): above 0 keeps the container awake for 3 × <see cref="ContainerOptions.RemoteActivityInterval"/>
    /// more; 0 ends that node's hold and renews the idle deadline from now.
    /// </summary>
    [AlwaysInterleave]
    Task RenewRemoteActivityAsync(string node, int inFlight, CancellationToken cancellationToken = default);
}
