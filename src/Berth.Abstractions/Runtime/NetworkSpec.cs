namespace Berth.Runtime;

/// <summary>A network containers can join. <see cref="Internal"/> networks have no route out.</summary>
public sealed record NetworkSpec
{
    /// <summary>Network name.</summary>
    public required string Name { get; init; }

    /// <summary>When <see langword="true"/>, containers on the network cannot reach outside the host.</summary>
    public bool Internal { get; init; }

    /// <summary>
    /// Driver options of the network, for example <c>com.docker.network.bridge.name</c> (the bridge's host interface name,
    /// <see cref="BerthNames.BridgeInterface"/>) that the host firewall matches.
    /// </summary>
    /// <value>Defaults to <see langword="null"/> (the driver's defaults).</value>
    public IReadOnlyDictionary<string, string>? Options { get; init; }

    /// <summary>Labels; see <see cref="BerthLabels"/>.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
}
