namespace Berth.Runtime;

/// <summary>A network containers can join. <see cref="Internal"/> networks have no route out.</summary>
public sealed record NetworkSpec
{
    /// <summary>Network name.</summary>
    public required string Name { get; init; }

    /// <summary>When <see langword="true"/>, containers on the network cannot reach outside the host.</summary>
    public bool Internal { get; init; }

    /// <summary>Labels; see <see cref="BerthLabels"/>.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
}
