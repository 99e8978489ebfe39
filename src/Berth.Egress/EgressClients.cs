using System.Collections.Concurrent;
using System.Net;

namespace Berth.Egress;

/// <summary>
/// Which container a connection to the proxy comes from, by its source address: the node registers each filtered
/// container's address when it starts and removes it when it stops. A connection from an address not registered is
/// closed at once (fail closed).
/// </summary>
public sealed class EgressClients
{
    private readonly ConcurrentDictionary<IPAddress, EgressClient> _clients = new();
    private readonly ConnectionSlots _connections = new();

    /// <summary>Connections through the node's proxies that all containers hold now.</summary>
    public int Connections => _connections.Held;

    /// <summary>Takes a node-wide connection slot if fewer than <paramref name="max"/> are held; pair with <see cref="LeaveConnection"/>.</summary>
    internal bool TryEnterConnection(int max) => _connections.TryEnter(max);

    /// <summary>Gives back a slot taken by <see cref="TryEnterConnection"/>.</summary>
    internal void LeaveConnection() => _connections.Leave();

    /// <summary>Registers <paramref name="client"/> for <paramref name="address"/>, replacing an earlier one; dispose the result to remove it.</summary>
    /// <param name="address">The container's address on its network.</param>
    /// <param name="client">The container.</param>
    public IDisposable Register(IPAddress address, EgressClient client)
    {
        var key = Normalize(address);
        _clients[key] = client;
        return new Registration(this, key, client);
    }

    /// <summary>The container at <paramref name="address"/>, if one is registered.</summary>
    public bool TryGet(IPAddress address, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EgressClient? client) =>
        _clients.TryGetValue(Normalize(address), out client);

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private sealed class Registration(EgressClients owner, IPAddress address, EgressClient client) : IDisposable
    {
        public void Dispose() => owner._clients.TryRemove(new KeyValuePair<IPAddress, EgressClient>(address, client));
    }
}
