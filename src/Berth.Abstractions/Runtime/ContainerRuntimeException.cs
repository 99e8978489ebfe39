namespace Berth.Runtime;

/// <summary>A container runtime operation failed; <see cref="Error"/> says why in a way callers can act on.</summary>
public sealed class ContainerRuntimeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ContainerRuntimeException(ContainerRuntimeError error, string message, Exception? innerException = null)
        : base(message, innerException) => Error = error;

    /// <summary>Why the operation failed.</summary>
    public ContainerRuntimeError Error { get; }
}
