namespace Berth.Containers;

/// <summary>Why a container could not be made ready for a request.</summary>
public enum ContainerReadyError
{
    /// <summary>It is ready.</summary>
    None,

    /// <summary>The image does not exist on the engine.</summary>
    ImageNotFound,

    /// <summary>The container started but did not open its ports in time.</summary>
    PortTimeout,

    /// <summary>The container exited before it became ready.</summary>
    ExitedDuringStart,

    /// <summary>The container engine could not be reached.</summary>
    EngineUnavailable,

    /// <summary>The class already runs <c>max_instances</c> containers.</summary>
    CapacityExceeded,

    /// <summary>Any other start failure.</summary>
    StartFailed,

    /// <summary>
    /// The container crashed <see cref="ContainerOptions.CrashLoopThreshold"/> times within <see cref="ContainerOptions.CrashLoopWindow"/>;
    /// the object does not start another one until its backoff ends. The message names the last exit code and output.
    /// </summary>
    CrashLoop,
}
