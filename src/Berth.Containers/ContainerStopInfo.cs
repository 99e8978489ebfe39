namespace Berth.Containers;

/// <summary>How a container ended, as given to <see cref="Container.OnStopAsync"/> and returned by <see cref="IContainer.MonitorAsync"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record ContainerStopInfo(
    [property: Id(0)] int ExitCode,
    [property: Id(1)] StopReason Reason,
    [property: Id(2)] string? ContainerId);
