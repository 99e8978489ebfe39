namespace Berth.Runtime;

/// <summary>A container as listed.</summary>
public sealed record ContainerSummary(
    string Id,
    string Name,
    string Image,
    EngineContainerState State,
    IReadOnlyDictionary<string, string> Labels,
    DateTimeOffset CreatedAt);
