namespace Berth.Containers;

/// <summary>Where a container object's container is in its life.</summary>
public enum ContainerObjectState
{
    /// <summary>No container runs (never started, or stopped cleanly).</summary>
    Stopped,

    /// <summary>The container runs; its ports are not yet known to listen.</summary>
    Running,

    /// <summary>The container runs and its required ports accept connections.</summary>
    Healthy,

    /// <summary>A stop signal was sent; waiting for it to exit.</summary>
    Stopping,

    /// <summary>The container exited with a non-zero code (see <see cref="ContainerObjectStatus.ExitCode"/>).</summary>
    StoppedWithCode,
}

/// <summary>A container object's state as persisted in its storage.</summary>
/// <param name="State">The state.</param>
/// <param name="ContainerId">Engine ID of the current or last container.</param>
/// <param name="ExitCode">Exit code of the last container, once it stopped.</param>
/// <param name="Reason">Why it last changed state (for example <c>sleep</c>, <c>oom</c>, <c>crash</c>).</param>
/// <param name="ChangedAt">When the state last changed.</param>
[GenerateSerializer, Immutable]
public sealed record ContainerObjectStatus(
    [property: Id(0)] ContainerObjectState State,
    [property: Id(1)] string? ContainerId,
    [property: Id(2)] int? ExitCode,
    [property: Id(3)] string? Reason,
    [property: Id(4)] DateTimeOffset ChangedAt)
{
    /// <summary>
    /// The last output lines of the last container when it exited with an error or failed to start, captured before
    /// it was removed; at most <see cref="ContainerOptions.ExitOutputLines"/> lines and <see cref="ContainerOptions.ExitOutputBytes"/> bytes.
    /// </summary>
    /// <value>Empty when the container stopped cleanly or had no output.</value>
    [Id(5)]
    public IReadOnlyList<string> LastOutput { get; init; } = [];
}

/// <summary>Why a container stopped, as given to <see cref="Container.OnStopAsync"/>.</summary>
public enum StopReason
{
    /// <summary>The platform stopped it because it was idle past <see cref="Container.SleepAfter"/>.</summary>
    Sleep,

    /// <summary>Stopped through <see cref="ContainerCalls.StopAsync"/> or <see cref="IContainer.DestroyAsync"/>.</summary>
    Requested,

    /// <summary>Its main process exited by itself.</summary>
    Exited,

    /// <summary>The kernel's OOM killer ended it.</summary>
    OutOfMemory,

    /// <summary>It never became ready, or the engine lost it.</summary>
    Failed,
}

/// <summary>How a container ended, as given to <see cref="Container.OnStopAsync"/> and returned by <see cref="IContainer.MonitorAsync"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record ContainerStopInfo(
    [property: Id(0)] int ExitCode,
    [property: Id(1)] StopReason Reason,
    [property: Id(2)] string? ContainerId);
