namespace Berth.Runtime;

/// <summary>How to stop a container.</summary>
/// <param name="Signal">First signal, usually <see cref="ContainerSignal.SIGTERM"/>.</param>
/// <param name="GracePeriod">Time between the first signal and SIGKILL.</param>
/// <remarks>The grace period has no default here: its one owner is <c>ContainerOptions.StopGracePeriod</c>.</remarks>
public sealed record StopOptions(ContainerSignal Signal, TimeSpan GracePeriod);
