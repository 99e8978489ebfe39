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

/// <summary>
/// The answer to "make sure the container runs": an endpoint, or an error the gateway turns into
/// an HTTP status. A value, not an exception, because it is on the request path.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ContainerReadyResult(
    [property: Id(0)] ContainerEndpoint? Endpoint,
    [property: Id(1)] ContainerReadyError Error,
    [property: Id(2)] string? Message)
{
    internal static ContainerReadyResult Ready(ContainerEndpoint endpoint) => new(endpoint, ContainerReadyError.None, null);

    /// <summary>The container runs; its ports were not waited for.</summary>
    internal static ContainerReadyResult Started { get; } = new(null, ContainerReadyError.None, null);

    internal static ContainerReadyResult Fail(ContainerReadyError error, string message) => new(null, error, message);
}

/// <summary>Thrown by the object's start methods when its container cannot be made ready.</summary>
[GenerateSerializer]
public sealed class ContainerStartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ContainerStartException(ContainerReadyError error, string message, Exception? innerException = null)
        : base(message, innerException) => Error = error;

    /// <summary>Why the start failed.</summary>
    [Id(0)]
    public ContainerReadyError Error { get; }
}
