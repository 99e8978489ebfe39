namespace Berth.Gateway;

/// <summary>
/// The hop through the hosting node's gateway (<c>Berth:Cluster:Forwarding</c> = <c>node</c>, docs/cluster.md): when it is
/// registered, a request for a container another node runs goes to that node's gateway instead of the container's address.
/// Berth.Cluster implements it on the cluster's PostgreSQL database.
/// </summary>
public interface INodeHop
{
    /// <summary>This node's ID (<c>ContainerOptions.NodeId</c>).</summary>
    string NodeId { get; }

    /// <summary>Signs the hops this node sends and checks the ones it receives.</summary>
    NodeHopSigner Signer { get; }

    /// <summary>The forwarding prefix (<c>http://host:port/</c>) of a node's gateway.</summary>
    /// <param name="nodeId">The node's ID.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The prefix, or <see langword="null"/> when the node recorded none.</returns>
    ValueTask<string?> GetGatewayPrefixAsync(string nodeId, CancellationToken cancellationToken);

    /// <summary>
    /// The TLS client options of a hop to an <c>https://</c> gateway (the node's client certificate, the server's trust
    /// anchor), read once when the forwarder is created; <see langword="null"/> (the default): .NET's defaults (the machine store).
    /// </summary>
    System.Net.Security.SslClientAuthenticationOptions? ClientTls => null;

    /// <summary>
    /// Whether a hop header may be taken from a request on this connection: with TLS between nodes
    /// (<c>Berth:Cluster:Tls</c>), only on the hop listener's connections, whose client certificate the cluster's CA signed;
    /// a hop sent to the public port is then a client's header (ignored and dropped) even when its HMAC verifies.
    /// <see langword="true"/> (the default): any connection, the HMAC alone decides.
    /// </summary>
    /// <param name="context">The request.</param>
    bool AcceptsHopsOn(Microsoft.AspNetCore.Http.HttpContext context) => true;

    /// <summary>Forgets a node's cached gateway, after it could not be reached (a restarted node may listen elsewhere).</summary>
    /// <param name="nodeId">The node's ID.</param>
    void Forget(string nodeId);
}
