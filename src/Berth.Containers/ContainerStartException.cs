namespace Berth.Containers;

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
