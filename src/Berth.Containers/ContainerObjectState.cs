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
