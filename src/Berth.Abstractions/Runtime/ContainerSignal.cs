namespace Berth.Runtime;

/// <summary>A POSIX signal sent to a container's main process. Each value is the signal's number on Linux.</summary>
public enum ContainerSignal
{
    /// <summary>Hang-up (1); many servers reload their configuration on it.</summary>
    SIGHUP = 1,

    /// <summary>Interrupt (2), as from Ctrl+C.</summary>
    SIGINT = 2,

    /// <summary>Quit (3); some runtimes dump their state on it.</summary>
    SIGQUIT = 3,

    /// <summary>Kill (9); cannot be caught, ends the process at once.</summary>
    SIGKILL = 9,

    /// <summary>User-defined signal 1 (10).</summary>
    SIGUSR1 = 10,

    /// <summary>User-defined signal 2 (12).</summary>
    SIGUSR2 = 12,

    /// <summary>Terminate (15); the polite stop, and the default first signal of a stop.</summary>
    SIGTERM = 15,
}
