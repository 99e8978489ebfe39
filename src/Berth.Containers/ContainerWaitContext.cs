namespace Berth.Containers;

/// <summary>What a <see cref="ContainerWaitStrategy"/> waits on: a started container, the probe and the clock.</summary>
/// <param name="ContainerId">Engine ID of the container.</param>
/// <param name="Host">Its address on Berth's network.</param>
/// <param name="DefaultPort">The class's default port.</param>
/// <param name="Probe">The network checks.</param>
/// <param name="Time">The clock every wait runs on.</param>
/// <param name="PollInterval">Time between two checks.</param>
/// <param name="Deadline">The outer deadline (start + <see cref="ContainerOptions.PortReadyTimeout"/>); no strategy waits past it.</param>
/// <param name="Exited">Completes with the container's exit code when it exits; every strategy fails at once then.</param>
/// <param name="Describe">How messages name the container, for example <c>Container Web 42</c>.</param>
public sealed record ContainerWaitContext(
    string ContainerId,
    string Host,
    int DefaultPort,
    IContainerProbe Probe,
    TimeProvider Time,
    TimeSpan PollInterval,
    DateTimeOffset Deadline,
    Task<int> Exited,
    string Describe);
