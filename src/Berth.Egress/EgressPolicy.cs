namespace Berth.Egress;

/// <summary>
/// The outbound rules of one container class: whether it may reach the internet at all, and which hosts it may
/// (<see cref="Allowed"/>) and may not (<see cref="Denied"/>) reach. Deny wins over allow.
/// </summary>
public sealed class EgressPolicy
{
    /// <summary>The policy of a class with no egress rules: the internet is open and nothing goes through the proxy.</summary>
    public static EgressPolicy Open { get; } = new(true, [], []);

    /// <summary>Creates a policy.</summary>
    /// <param name="enableInternet">Whether anything may leave the host at all.</param>
    /// <param name="allowed">Host globs that may be reached; empty means every host not denied.</param>
    /// <param name="denied">Host globs that may never be reached; they win over <paramref name="allowed"/>.</param>
    public EgressPolicy(bool enableInternet, IReadOnlyList<HostGlob> allowed, IReadOnlyList<HostGlob> denied)
    {
        EnableInternet = enableInternet;
        Allowed = allowed ?? throw new ArgumentNullException(nameof(allowed));
        Denied = denied ?? throw new ArgumentNullException(nameof(denied));
    }

    /// <summary>Parses a policy from the config's or class's strings.</summary>
    /// <param name="enableInternet">Whether anything may leave the host at all.</param>
    /// <param name="allowed">Allowed host globs (<c>allowed_hosts</c>).</param>
    /// <param name="denied">Denied host globs (<c>denied_hosts</c>).</param>
    /// <exception cref="ArgumentException">A pattern is not valid (see <see cref="HostGlob"/>).</exception>
    public static EgressPolicy Create(bool enableInternet, IEnumerable<string>? allowed, IEnumerable<string>? denied) =>
        new(enableInternet, (allowed ?? []).Select(HostGlob.Parse).ToArray(), (denied ?? []).Select(HostGlob.Parse).ToArray());

    /// <summary>Whether anything may leave the host at all.</summary>
    public bool EnableInternet { get; }

    /// <summary>Host globs that may be reached; empty means every host not denied.</summary>
    public IReadOnlyList<HostGlob> Allowed { get; }

    /// <summary>Host globs that may never be reached.</summary>
    public IReadOnlyList<HostGlob> Denied { get; }

    /// <summary>
    /// Whether the class's containers need the egress path: the internet is off or a host list is set. A class
    /// that is not filtered gets a plain network with a route out.
    /// </summary>
    public bool IsFiltered => !EnableInternet || Allowed.Count > 0 || Denied.Count > 0;

    /// <summary>Decides whether a connection to <paramref name="host"/> may go out, and names the rule that decided.</summary>
    /// <param name="host">The host the client asked for (Host header, CONNECT authority or TLS SNI), without port.
    /// An IP literal in any form (dotted, decimal, octal, hex, IPv6) is always denied: host rules name hosts.</param>
    public EgressDecision Decide(string? host)
    {
        if (!EnableInternet)
        {
            return EgressDecision.Deny("enable_internet=false");
        }

        if (string.IsNullOrEmpty(host) || !HostName.IsValid(host))
        {
            return EgressDecision.Deny("no valid host name");
        }

        // Host rules are about names: an address (in any spelling: 1.2.3.4, [::1], 2130706433, 0x7f.1) matches none,
        // and would walk past a deny list. Refused with either list.
        if (HostName.IsIpLiteral(host))
        {
            return EgressDecision.Deny("ip literal (host rules match names only)");
        }

        foreach (var glob in Denied)
        {
            if (glob.IsMatch(host))
            {
                return EgressDecision.Deny($"denied_hosts '{glob.Pattern}'");
            }
        }

        if (Allowed.Count == 0)
        {
            return EgressDecision.Allow("no allowed_hosts list");
        }

        foreach (var glob in Allowed)
        {
            if (glob.IsMatch(host))
            {
                return EgressDecision.Allow($"allowed_hosts '{glob.Pattern}'");
            }
        }

        return EgressDecision.Deny("not in allowed_hosts");
    }
}

/// <summary>The outcome of <see cref="EgressPolicy.Decide"/>.</summary>
/// <param name="Allowed">Whether the connection may go out.</param>
/// <param name="Rule">The rule that decided, for logs and error bodies (for example <c>denied_hosts '*.evil.test'</c>).</param>
public readonly record struct EgressDecision(bool Allowed, string Rule)
{
    /// <summary>An allowing decision.</summary>
    public static EgressDecision Allow(string rule) => new(true, rule);

    /// <summary>A denying decision.</summary>
    public static EgressDecision Deny(string rule) => new(false, rule);
}
