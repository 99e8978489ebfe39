namespace Berth.Cluster;

/// <summary>
/// The side of a TLS connection a peer's certificate was presented on, which decides the purpose it must be valid for
/// (see <see cref="ClusterTlsSettings.IsTrusted(System.Security.Cryptography.X509Certificates.X509Certificate2, System.Security.Cryptography.X509Certificates.X509Chain?, ClusterPeerRole)"/>).
/// </summary>
public enum ClusterPeerRole
{
    /// <summary>
    /// A peer that connected to this node (a client of the hop listener; an inbound silo or Orleans gateway connection): its
    /// certificate, if it lists extended key usages, must list clientAuth.
    /// </summary>
    Client,

    /// <summary>
    /// A server this node connected to (another node's hop listener; an outbound silo connection): its certificate, if it
    /// lists extended key usages, must list serverAuth.
    /// </summary>
    Server,
}
