using System.Collections.Frozen;
using System.Globalization;

namespace Berth.Containers;

/// <summary>Where a running container can be reached: its address and listening ports.</summary>
[GenerateSerializer, Immutable]
public sealed class ContainerEndpoint
{
    [NonSerialized]
    private FrozenDictionary<int, string>? _prefixes;

    /// <summary>Creates an endpoint.</summary>
    public ContainerEndpoint(string containerId, string host, int defaultPort, IReadOnlyList<int> ports)
    {
        ContainerId = containerId;
        Host = host;
        DefaultPort = defaultPort;
        Ports = ports;
    }

    /// <summary>Engine ID of the container.</summary>
    [Id(0)]
    public string ContainerId { get; }

    /// <summary>Address the gateway forwards to (the container's address on Berth's network).</summary>
    [Id(1)]
    public string Host { get; }

    /// <summary>Port used when a request names none.</summary>
    [Id(2)]
    public int DefaultPort { get; }

    /// <summary>Ports the container was checked to listen on.</summary>
    [Id(3)]
    public IReadOnlyList<int> Ports { get; }

    /// <summary>
    /// The ID of the node that runs the container (<see cref="ContainerOptions.NodeId"/> of the object's node), so that another
    /// node's gateway can forward through that node's gateway (<c>Berth:Cluster:Forwarding</c> = <c>node</c>).
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: not known (an endpoint made by an older node or a test).</value>
    [Id(4)]
    public string? NodeId { get; init; }

    /// <summary>The forwarding prefix (<c>http://host:port/</c>) for a port, built once per endpoint.</summary>
    public string GetDestinationPrefix(int port)
    {
        var prefixes = _prefixes ??= Ports.Append(DefaultPort).Distinct()
            .ToFrozenDictionary(p => p, p => string.Create(CultureInfo.InvariantCulture, $"http://{Host}:{p}/"));
        return prefixes.TryGetValue(port, out var prefix)
            ? prefix
            : string.Create(CultureInfo.InvariantCulture, $"http://{Host}:{port}/");
    }
}
