namespace Berth.Runtime;

/// <summary>Conversions for <see cref="ContainerSignal"/>.</summary>
public static class ContainerSignals
{
    /// <summary>The signal's name as engines take it, such as <c>SIGTERM</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="signal"/> is not a defined <see cref="ContainerSignal"/>.</exception>
    public static string ToSignalName(this ContainerSignal signal) => signal switch
    {
        ContainerSignal.SIGHUP => "SIGHUP",
        ContainerSignal.SIGINT => "SIGINT",
        ContainerSignal.SIGQUIT => "SIGQUIT",
        ContainerSignal.SIGKILL => "SIGKILL",
        ContainerSignal.SIGUSR1 => "SIGUSR1",
        ContainerSignal.SIGUSR2 => "SIGUSR2",
        ContainerSignal.SIGTERM => "SIGTERM",
        _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "Not a known signal."),
    };
}
