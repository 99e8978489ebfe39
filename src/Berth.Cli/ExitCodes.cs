namespace Berth.Cli;

/// <summary>
/// What <c>berth</c> exits with. Values follow BSD <c>sysexits.h</c> where one fits, so they do not clash with the
/// small codes a command run by <c>berth containers exec</c> usually returns (exec passes its command's code through).
/// </summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Success = 0;

    /// <summary>A deploy's build or push failed (nothing changed), its build context was too large, or a deploy's or rollback's rollout failed.</summary>
    public const int DeployFailed = 1;

    /// <summary>The command line was wrong (EX_USAGE).</summary>
    public const int Usage = 64;

    /// <summary>An object ID prefix matched several objects, or a rollback has no earlier version to go to (EX_DATAERR).</summary>
    public const int Ambiguous = 65;

    /// <summary>The container, class or project was not found (EX_NOINPUT).</summary>
    public const int NotFound = 66;

    /// <summary>The host could not be reached, or a port was taken (EX_UNAVAILABLE).</summary>
    public const int HostUnreachable = 69;

    /// <summary>Something unexpected failed inside berth (EX_SOFTWARE).</summary>
    public const int InternalError = 70;

    /// <summary>The object has no running container to exec in; start it first (EX_TEMPFAIL).</summary>
    public const int NotRunning = 75;

    /// <summary>The host answered with an error berth has no better code for (EX_PROTOCOL).</summary>
    public const int HostError = 76;

    /// <summary>No token, or the host refused it (EX_NOPERM).</summary>
    public const int Unauthorized = 77;

    /// <summary>Stopped by Ctrl+C (128 + SIGINT).</summary>
    public const int Interrupted = 130;
}

/// <summary>A failure with a message for the user and the exit code that goes with it.</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
