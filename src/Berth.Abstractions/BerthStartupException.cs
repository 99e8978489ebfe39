namespace Berth.Hosting;

/// <summary>
/// The host cannot start as configured (for example, a port it must listen on is taken). The message is one line that
/// names what failed and the setting to change; the host's start throws it and the process should exit non-zero.
/// </summary>
/// <remarks>
/// Defined here, in the namespace of Berth.Hosting where it was first declared (Berth.Hosting forwards the type), so that the
/// components Berth.Hosting composes (the cluster's hop listener) can fail a start with it too.
/// </remarks>
public sealed class BerthStartupException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BerthStartupException()
    {
    }

    /// <summary>Creates the exception with its one-line message.</summary>
    public BerthStartupException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its one-line message and the error that caused it.</summary>
    public BerthStartupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
