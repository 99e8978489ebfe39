namespace Berth.Runtime;

/// <summary>
/// A network containers can join. <see cref="Internal"/> networks have no route out. Every Berth network isolates its
/// containers from each other (<see cref="InterContainerCommunication"/> off) and names its bridge interface
/// <see cref="BerthNames.BridgeInterface"/> so the host firewall can keep its containers off the host's own services.
/// </summary>
public sealed record NetworkSpec
{
    /// <summary>Network name.</summary>
    public required string Name { get; init; }

    /// <summary>When <see langword="true"/>, containers on the network cannot reach outside the host.</summary>
    public bool Internal { get; init; }

    /// <summary>
    /// Whether containers on the network may open connections to each other. Off, only the host (the gateway) reaches
    /// them: a tenant's container cannot connect to another tenant's.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool InterContainerCommunication { get; init; }

    /// <summary>
    /// The host interface name of the network's bridge (at most 15 characters); <see langword="null"/> means
    /// <see cref="BerthNames.BridgeInterface"/> of <see cref="Name"/>, which the host firewall matches.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? BridgeInterface { get; init; }

    /// <summary>
    /// Driver options of the network, for example <c>com.docker.network.bridge.name</c> (the bridge's host interface name,
    /// <see cref="BerthNames.BridgeInterface"/>) that the host firewall matches.
    /// </summary>
    /// <value>Defaults to <see langword="null"/> (the driver's defaults).</value>
    public IReadOnlyDictionary<string, string>? Options { get; init; }

    /// <summary>Labels; see <see cref="BerthLabels"/>.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
}
