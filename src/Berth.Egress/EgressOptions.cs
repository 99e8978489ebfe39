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

    /// <summary>Whether the node installs the iptables rules that force filtered networks' traffic through the proxy.</summary>
    /// <value>Defaults to <see langword="true"/>. Off only for hosts where another tool owns the firewall (the proxy alone is no enforcement).</value>
    public bool ManageFirewall { get; set; } = true;

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

        return errors;
    }
}
