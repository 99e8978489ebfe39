namespace Berth.Runtime;

/// <summary>What the engine says a container is doing.</summary>
public enum EngineContainerState
{
    /// <summary>Created, never started.</summary>
    Created,

    /// <summary>Its main process runs.</summary>
    Running,

    /// <summary>Frozen.</summary>
    Paused,

    /// <summary>Restarting under a restart policy.</summary>
    Restarting,

    /// <summary>Its main process has exited.</summary>
    Exited,

    /// <summary>Could not be stopped or removed cleanly.</summary>
    Dead,

    /// <summary>Being removed.</summary>
    Removing,
}
