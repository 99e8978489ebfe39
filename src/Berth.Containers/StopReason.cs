namespace Berth.Containers;

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

    /// <summary>
    /// A rollout (deploy or rollback) replaced it with another version of its class: its in-flight requests
    /// drained, then SIGTERM, then SIGKILL after the stop grace. The next request starts the new version.
    /// </summary>
    Replaced,

    /// <summary>
    /// The node's disk watch killed it (SIGKILL) because its writable layer grew past its instance type's disk
    /// (<see cref="InstanceType.DiskMb"/>), on an engine whose storage driver cannot bound it. The object's status reason
    /// says how much it wrote; the next request starts a fresh container.
    /// </summary>
    DiskLimitExceeded,
}
