namespace Berth.Egress;

/// <summary>Settings of the node's egress proxy (section <c>Berth:Egress</c>).</summary>
public sealed class EgressOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Berth:Egress";

    /// <summary>Default of <see cref="ProxyPort"/>: 3129.</summary>
    public const int DefaultProxyPort = 3129;

    /// <summary>
    /// The TCP port the proxy listens on, on the gateway address of each filtered network's bridge (never on other
    /// host addresses). Containers reach it as <c>HTTP_PROXY</c>/<c>HTTPS_PROXY</c>, and their outbound TCP 80/443 is
    /// redirected to it.
    /// </summary>
    /// <value>Defaults to <see cref="DefaultProxyPort"/> (3129). 1–65535.</value>
    public int ProxyPort { get; set; } = DefaultProxyPort;

    /// <summary>How long a client may take to send its request head or TLS ClientHello before the proxy closes the connection.</summary>
    /// <value>Defaults to 10 seconds. Positive.</value>
    public TimeSpan HeadTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long resolving and connecting to an allowed upstream host may take.</summary>
    /// <value>Defaults to 10 seconds. Positive.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Default of <see cref="IdleTimeout"/>: 5 minutes.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Largest <see cref="IdleTimeout"/>: 1 day.</summary>
    public static readonly TimeSpan MaxIdleTimeout = TimeSpan.FromDays(1);

    /// <summary>
    /// How long a relayed connection (plain HTTP forward, CONNECT tunnel, transparent TLS or HTTP) may move no byte in
    /// either direction before the proxy closes it on both sides and gives its connection slots back. A byte either way
    /// resets the clock: a long download to a silent client is not idle. Counted from the moment the upstream is
    /// connected; the request head before that has <see cref="HeadTimeout"/>.
    /// </summary>
    /// <value>Defaults to <see cref="DefaultIdleTimeout"/> (5 minutes). More than zero and at most 1 day.</value>
    public TimeSpan IdleTimeout { get; set; } = DefaultIdleTimeout;

    /// <summary>Whether the node installs the iptables rules that force filtered networks' traffic through the proxy.</summary>
    /// <value>Defaults to <see langword="true"/>. Off only for hosts where another tool owns the firewall (the proxy alone is no enforcement).</value>
    public bool ManageFirewall { get; set; } = true;

    /// <summary>Default of <see cref="MaxConnectionsPerContainer"/>: 256.</summary>
    public const int DefaultMaxConnectionsPerContainer = 256;

    /// <summary>Default of <see cref="MaxConnections"/>: 4,096.</summary>
    public const int DefaultMaxConnections = 4096;

    /// <summary>
    /// Private networks (CIDR, for example <c>10.20.0.0/16</c>) the proxy may connect to although they are private,
    /// link-local, CGNAT, ULA or on one of this host's interfaces (see <see cref="EgressAddressFilter"/>). Loopback,
    /// unspecified, multicast and broadcast addresses are refused even when listed. Listing a network here lets every
    /// filtered container whose policy allows a name resolving into it reach it: list only what containers must reach
    /// (an internal API), never the Docker bridges' subnets.
    /// </summary>
    /// <value>Defaults to empty (no private address is reachable). Each entry a valid CIDR (<c>address/prefix</c>).</value>
    public IList<string> AllowedPrivateNetworks { get; } = [];

    /// <summary>
    /// The upstream TCP ports filtered containers may reach through the proxy (HTTP to any other port answers
    /// <c>403 egress_port_denied</c>; a CONNECT tunnel or transparent TLS to another port is refused). Node-wide: every
    /// filtered class gets the same list.
    /// </summary>
    /// <value>Defaults to 80 and 443 (an empty list means those two). Each 1–65535.</value>
    public IList<int> AllowedPorts { get; } = [];

    /// <summary>How many connections through the proxy one container may hold at once; more are closed at once (a slow or hostile tenant cannot exhaust the node).</summary>
    /// <value>Defaults to <see cref="DefaultMaxConnectionsPerContainer"/> (256). 1–65536.</value>
    public int MaxConnectionsPerContainer { get; set; } = DefaultMaxConnectionsPerContainer;

    /// <summary>
    /// How many connections through the node's proxies all containers together may hold at once; more are closed at once.
    /// Each proxied connection holds two sockets (the container's and the upstream's), so this bounds the node's open files
    /// whatever many tenants do together.
    /// </summary>
    /// <value>Defaults to <see cref="DefaultMaxConnections"/> (4,096). 1–1,000,000.</value>
    public int MaxConnections { get; set; } = DefaultMaxConnections;

    /// <summary>The ports in effect: <see cref="AllowedPorts"/>, or 80 and 443 when it is empty.</summary>
    public IReadOnlySet<int> EffectivePorts() => AllowedPorts.Count == 0 ? new HashSet<int> { 80, 443 } : AllowedPorts.ToHashSet();

    /// <summary>The parsed <see cref="AllowedPrivateNetworks"/>.</summary>
    /// <exception cref="FormatException">An entry is not a valid CIDR (call <see cref="Validate"/> first).</exception>
    public IReadOnlyList<System.Net.IPNetwork> ParsedPrivateNetworks() => [.. AllowedPrivateNetworks.Select(n => System.Net.IPNetwork.Parse(n.Trim()))];

    /// <summary>Checks the values; returns the problems found (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (ProxyPort is < 1 or > 65535)
        {
            errors.Add($"Berth:Egress:ProxyPort must be 1–65535 (got {ProxyPort}).");
        }

        if (HeadTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Berth:Egress:HeadTimeout must be positive (got {HeadTimeout}).");
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Berth:Egress:ConnectTimeout must be positive (got {ConnectTimeout}).");
        }

        if (IdleTimeout <= TimeSpan.Zero || IdleTimeout > MaxIdleTimeout)
        {
            errors.Add($"Berth:Egress:IdleTimeout must be positive and at most 1 day (1.00:00:00) (got {IdleTimeout}).");
        }

        foreach (var network in AllowedPrivateNetworks)
        {
            var text = network?.Trim() ?? "";
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0 || !System.Net.IPNetwork.TryParse(text, out var parsed)
                || !System.Net.IPAddress.TryParse(text[..slash], out var given) || !parsed.BaseAddress.Equals(given))
            {
                errors.Add($"Berth:Egress:AllowedPrivateNetworks entry '{network}' is not a CIDR network (address/prefix with no host bits set, for example 10.20.0.0/16).");
            }
        }

        foreach (var port in AllowedPorts)
        {
            if (port is < 1 or > 65535)
            {
                errors.Add($"Berth:Egress:AllowedPorts entry {port} must be 1–65535.");
            }
        }

        if (MaxConnections is < 1 or > 1_000_000)
        {
            errors.Add($"Berth:Egress:MaxConnections must be 1–1000000 (got {MaxConnections}).");
        }

        if (MaxConnectionsPerContainer is < 1 or > 65536)
        {
            errors.Add($"Berth:Egress:MaxConnectionsPerContainer must be 1–65536 (got {MaxConnectionsPerContainer}).");
        }

        return errors;
    }
}
