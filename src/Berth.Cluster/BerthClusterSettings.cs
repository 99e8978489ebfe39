using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Berth.Cluster;

/// <summary>
/// How a node joins its cluster, read from the <c>Berth:Cluster</c> configuration section (berth.jsonc's <c>cluster</c> object
/// feeds the app-wide keys; per-node values come from environment variables such as <c>Berth__Cluster__Location</c>).
/// </summary>
public sealed partial class BerthClusterSettings
{
    /// <summary>The provider with no configuration: one node, Orleans localhost clustering, nothing to install.</summary>
    public const string LocalhostProvider = "localhost";

    /// <summary>The provider of a cluster of nodes: Orleans ADO.NET membership on PostgreSQL.</summary>
    public const string PostgresProvider = "postgres";

    /// <summary>The configuration key of <see cref="Provider"/>.</summary>
    public const string ProviderKey = "Berth:Cluster:Provider";

    /// <summary>The configuration key of <see cref="Connection"/>.</summary>
    public const string ConnectionKey = "Berth:Cluster:Connection";

    /// <summary>The configuration key of <see cref="Location"/>.</summary>
    public const string LocationKey = "Berth:Cluster:Location";

    /// <summary>The configuration key of <see cref="ClusterId"/>.</summary>
    public const string ClusterIdKey = "Berth:Cluster:ClusterId";

    /// <summary>The configuration key of <see cref="AdvertiseAddress"/>.</summary>
    public const string AdvertiseAddressKey = "Berth:Cluster:AdvertiseAddress";

    /// <summary>The configuration key of <see cref="RemoveDeadNodeContainers"/>.</summary>
    public const string RemoveDeadNodeContainersKey = "Berth:Cluster:RemoveDeadNodeContainers";

    /// <summary>The configuration key of <see cref="Forwarding"/>.</summary>
    public const string ForwardingKey = "Berth:Cluster:Forwarding";

    /// <summary>The configuration key of <see cref="AdvertiseUrl"/>.</summary>
    public const string AdvertiseUrlKey = "Berth:Cluster:AdvertiseUrl";

    /// <summary>The configuration key of <see cref="HopUrl"/>.</summary>
    public const string HopUrlKey = "Berth:Cluster:HopUrl";

    /// <summary>Forwarding that reaches a container another node runs at its own address (on its node's Docker network).</summary>
    public const string DirectForwarding = "direct";

    /// <summary>Forwarding that reaches a container another node runs through that node's gateway.</summary>
    public const string NodeForwarding = "node";

    /// <summary>Largest length of a location label: 63 characters.</summary>
    public const int MaxLocationLength = 63;

    private BerthClusterSettings(string provider, string? connection, string location, string? clusterId, IPAddress? advertiseAddress,
        bool removeDeadNodeContainers, string forwarding, Uri? advertiseUrl, ClusterTlsSettings? tls, Uri? hopUrl)
    {
        Tls = tls;
        HopUrl = hopUrl;
        RemoveDeadNodeContainers = removeDeadNodeContainers;
        Forwarding = forwarding;
        AdvertiseUrl = advertiseUrl;
        Provider = provider;
        Connection = connection;
        Location = location;
        ClusterId = clusterId;
        AdvertiseAddress = advertiseAddress;
    }

    /// <summary><see cref="LocalhostProvider"/> or <see cref="PostgresProvider"/>.</summary>
    /// <value>Defaults to <see cref="LocalhostProvider"/>.</value>
    public string Provider { get; }

    /// <summary>The Npgsql connection string of the cluster's PostgreSQL database (required with <see cref="PostgresProvider"/>).</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? Connection { get; }

    /// <summary>This node's location label (lowercase letters, digits, '-', '_' and '.', at most <see cref="MaxLocationLength"/>).</summary>
    /// <value>Defaults to the empty string: the node has no location, and location hints never choose it.</value>
    public string Location { get; }

    /// <summary>The Orleans cluster and service ID: nodes with the same one form one cluster.</summary>
    /// <value>Defaults to <see langword="null"/>: the app's name (<c>ContainerOptions.AppName</c>).</value>
    public string? ClusterId { get; }

    /// <summary>The address other nodes reach this node's silo on.</summary>
    /// <value>Defaults to <see langword="null"/>: Orleans picks the machine's first non-loopback address.</value>
    public IPAddress? AdvertiseAddress { get; }

    /// <summary>
    /// Whether this node removes the containers of a dead node that ran on the same engine (the engines' IDs recorded in
    /// <c>berth_nodes</c> are equal). Off, a dead node's containers run until that node comes back and reconciles them.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool RemoveDeadNodeContainers { get; }

    /// <summary>
    /// How this node's gateway reaches a container that another node runs: <see cref="DirectForwarding"/> (at the container's
    /// address, which must be routable from this node: one machine, or routed container networks) or <see cref="NodeForwarding"/>
    /// (through that node's gateway, at its <see cref="AdvertiseUrl"/>: machines with their own engines).
    /// </summary>
    /// <value>Defaults to <see cref="DirectForwarding"/>.</value>
    public string Forwarding { get; }

    /// <summary>
    /// The http(s) URL other nodes reach this node's gateway on (scheme, host and port; recorded in <c>berth_node_gateways</c>).
    /// </summary>
    /// <value>
    /// Defaults to <see langword="null"/>: <c>http://{AdvertiseAddress}:{port}</c>, the port being the first http port the
    /// server listens on; a node that cannot determine it fails at start with <see cref="NodeForwarding"/>.
    /// </value>
    public Uri? AdvertiseUrl { get; }

    /// <summary>
    /// TLS between the nodes (<c>Berth:Cluster:Tls</c>): silo connections over mutual TLS, and with <see cref="NodeForwarding"/>
    /// the hop over HTTPS to <see cref="HopUrl"/>.
    /// </summary>
    /// <value>Defaults to <see langword="null"/> (the section absent): silo traffic is plain TCP, the hop plain HTTP.</value>
    public ClusterTlsSettings? Tls { get; }

    /// <summary>
    /// With <see cref="Tls"/> and <see cref="NodeForwarding"/>: the https URL (scheme, host, port) other nodes reach this node's
    /// hop listener on. The node listens on its port (on <see cref="AdvertiseAddress"/>, or every address without one) with
    /// its certificate, requires a client certificate the cluster's CA signed, and records this URL in
    /// <c>berth_node_gateways</c> instead of <see cref="AdvertiseUrl"/>, which stays the public gateway.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>; required with TLS and <see cref="NodeForwarding"/>.</value>
    public Uri? HopUrl { get; }

    /// <summary>Whether the node is part of a PostgreSQL cluster.</summary>
    public bool IsCluster => Provider == PostgresProvider;

    /// <summary>Reads and validates the <c>Berth:Cluster</c> section.</summary>
    /// <param name="cluster">The <c>Berth:Cluster</c> configuration section.</param>
    /// <exception cref="ArgumentException">A field is invalid: the message is one line that names the key and the allowed values.</exception>
    public static BerthClusterSettings Read(IConfiguration cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var provider = (cluster["Provider"] ?? "").Trim();
        provider = provider.Length == 0 ? LocalhostProvider : provider.ToLowerInvariant();
        if (provider is not (LocalhostProvider or PostgresProvider))
        {
            throw new ArgumentException($"{ProviderKey} (berth.jsonc cluster.provider) is '{cluster["Provider"]}'; allowed: '{LocalhostProvider}' (one node, the default) or '{PostgresProvider}'.");
        }

        var connection = cluster["Connection"];
        if (provider == PostgresProvider && string.IsNullOrWhiteSpace(connection))
        {
            throw new ArgumentException($"{ConnectionKey} (berth.jsonc cluster.connection) is required with provider '{PostgresProvider}'; allowed: an Npgsql connection string such as 'Host=db;Username=berth;Password=…;Database=berth'.");
        }

        if (provider == PostgresProvider)
        {
            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(connection);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"{ConnectionKey} (berth.jsonc cluster.connection) is not a valid Npgsql connection string ({ex.Message}).", ex);
            }
        }

        var location = cluster["Location"] ?? "";
        if (location.Length > 0 && !LocationRegex().IsMatch(location))
        {
            throw new ArgumentException($"{LocationKey} is '{location}'; allowed: 1–{MaxLocationLength} lowercase letters, digits, '-', '_' or '.'.");
        }

        var clusterId = cluster["ClusterId"];
        if (clusterId is not null && (clusterId.Length is 0 or > 150 || clusterId.Any(char.IsControl)))
        {
            throw new ArgumentException($"{ClusterIdKey} is '{clusterId}'; allowed: 1–150 printable characters.");
        }

        IPAddress? advertise = null;
        if (cluster["AdvertiseAddress"] is { Length: > 0 } text && !IPAddress.TryParse(text, out advertise))
        {
            throw new ArgumentException($"{AdvertiseAddressKey} is '{text}'; allowed: an IPv4 or IPv6 address other nodes can reach this node on.");
        }

        var removeDeadNodeContainers = true;
        if (cluster["RemoveDeadNodeContainers"] is { } remove && !bool.TryParse(remove, out removeDeadNodeContainers))
        {
            throw new ArgumentException($"{RemoveDeadNodeContainersKey} is '{remove}'; allowed: true (the default) or false.");
        }

        var forwarding = (cluster["Forwarding"] ?? "").Trim().ToLowerInvariant();
        forwarding = forwarding.Length == 0 ? DirectForwarding : forwarding;
        if (forwarding is not (DirectForwarding or NodeForwarding))
        {
            throw new ArgumentException($"{ForwardingKey} (berth.jsonc cluster.forwarding) is '{cluster["Forwarding"]}'; allowed: '{DirectForwarding}' (to the container's address, the default) or '{NodeForwarding}' (through the hosting node's gateway).");
        }

        Uri? advertiseUrl = null;
        if (cluster["AdvertiseUrl"] is { Length: > 0 } url
            && (!Uri.TryCreate(url, UriKind.Absolute, out advertiseUrl) || advertiseUrl.Scheme is not ("http" or "https")
                || advertiseUrl.PathAndQuery != "/" || advertiseUrl.Fragment.Length > 0 || advertiseUrl.UserInfo.Length > 0))
        {
            throw new ArgumentException($"{AdvertiseUrlKey} is '{url}'; allowed: an http:// or https:// URL with a host and optional port and no path, such as 'http://10.0.0.5:8080', that other nodes reach this node's gateway on.");
        }

        var tls = ClusterTlsSettings.Read(cluster.GetSection("Tls"));
        Uri? hopUrl = null;
        if (cluster["HopUrl"] is { Length: > 0 } hop)
        {
            if (!Uri.TryCreate(hop, UriKind.Absolute, out hopUrl) || hopUrl.Scheme != "https" || hopUrl.PathAndQuery != "/"
                || hopUrl.Fragment.Length > 0 || hopUrl.UserInfo.Length > 0)
            {
                throw new ArgumentException($"{HopUrlKey} is '{hop}'; allowed: an https:// URL with a host, optional port and no path, such as 'https://10.0.0.5:8443', that other nodes reach this node's hop listener on.");
            }

            if (tls is null || forwarding != NodeForwarding)
            {
                throw new ArgumentException($"{HopUrlKey} is set without {ClusterTlsSettings.SectionKey} and {ForwardingKey} = '{NodeForwarding}'; allowed: a hop URL only for the TLS hop between nodes (remove it, or configure both).");
            }
        }
        else if (tls is not null && forwarding == NodeForwarding)
        {
            throw new ArgumentException($"{HopUrlKey} is required with {ClusterTlsSettings.SectionKey} and {ForwardingKey} = '{NodeForwarding}'; allowed: an https:// URL such as 'https://10.0.0.5:8443' that other nodes reach this node's hop listener on.");
        }

        return new BerthClusterSettings(provider, connection, location, clusterId, advertise, removeDeadNodeContainers, forwarding, advertiseUrl, tls, hopUrl);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex LocationRegex();
}
