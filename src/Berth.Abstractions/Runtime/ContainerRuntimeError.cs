namespace Berth.Runtime;

/// <summary>Why a container runtime operation failed.</summary>
public enum ContainerRuntimeError
{
    /// <summary>Anything not listed below.</summary>
    Unknown,

    /// <summary>The engine could not be reached (not running, socket missing, connection refused).</summary>
    EngineUnavailable,

    /// <summary>The image does not exist on the engine and cannot be pulled.</summary>
    ImageNotFound,

    /// <summary>The container does not exist.</summary>
    ContainerNotFound,

    /// <summary>The operation conflicts with the container's state or an existing name.</summary>
    Conflict,

    /// <summary>The engine refused the spec.</summary>
    InvalidSpec,

    /// <summary>An image build failed; the message carries the build's error.</summary>
    BuildFailed,
}
