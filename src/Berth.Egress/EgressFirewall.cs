using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;

namespace Berth.Egress;

/// <summary>Installs the host firewall rules that force a filtered network's traffic through the egress proxy.</summary>
public interface IEgressFirewall
{
    /// <summary>
    /// Makes sure, idempotently, that on bridge <paramref name="bridgeInterface"/> the proxy port is accepted in
    /// <c>BERTH-HOST-ALLOW</c>, nothing is forwarded out of the bridge, and (when <paramref name="transparent"/>) outbound
    /// TCP 80 and 443 is redirected to the proxy's <paramref name="proxyPort"/>.
    /// </summary>
    /// <param name="bridgeInterface">The bridge's interface name (<c>bb-…</c>).</param>
    /// <param name="proxyPort">The proxy's port on the bridge's gateway address.</param>
    /// <param name="transparent">Whether TCP 80/443 is redirected to the proxy (host lists); off, a direct connection has no route at all.</param>
    /// <param name="cancellationToken">Cancels the commands.</param>
    /// <exception cref="EgressFirewallException">A rule could not be installed (no iptables, not root).</exception>
    Task EnsureAsync(string bridgeInterface, int proxyPort, bool transparent, CancellationToken cancellationToken);

    /// <summary>Removes the rules <see cref="EnsureAsync"/> installed for the bridge (best effort).</summary>
    /// <param name="bridgeInterface">The bridge's interface name.</param>
    /// <param name="proxyPort">The proxy's port.</param>
    /// <param name="cancellationToken">Cancels the commands.</param>
    Task RemoveAsync(string bridgeInterface, int proxyPort, CancellationToken cancellationToken);
}

/// <summary>A firewall rule could not be installed.</summary>
/// <param name="message">What failed, with the command's output.</param>
public sealed class EgressFirewallException(string message) : Exception(message);

/// <summary>
/// <see cref="IEgressFirewall"/> with <c>iptables</c> (run as root, <c>-w</c> so concurrent callers wait for the lock).
/// Chains it owns: nat <c>BERTH-EGRESS</c> (from <c>PREROUTING</c>) and filter <c>BERTH-EGRESS-FWD</c> (from
/// <c>DOCKER-USER</c>); it appends to <c>BERTH-HOST-ALLOW</c>, which the isolation rules own (created if absent).
/// </summary>
/// <param name="logger">Logs each command that changes the rules.</param>
public sealed class IptablesEgressFirewall(ILogger<IptablesEgressFirewall> logger) : IEgressFirewall
{
    /// <summary>The nat chain holding the redirects.</summary>
    public const string NatChain = "BERTH-EGRESS";

    /// <summary>The filter chain dropping everything else forwarded out of filtered bridges.</summary>
    public const string ForwardChain = "BERTH-EGRESS-FWD";

    /// <summary>The filter chain of host services containers may reach (owned by the isolation rules).</summary>
    public const string HostAllowChain = "BERTH-HOST-ALLOW";

    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <inheritdoc />
    public async Task EnsureAsync(string bridgeInterface, int proxyPort, bool transparent, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(bridgeInterface);
        await Gate.WaitAsync(cancellationToken);
        try
        {
            await EnsureChainAsync("nat", NatChain, cancellationToken);
            await EnsureJumpAsync("nat", "PREROUTING", NatChain, cancellationToken);
            await EnsureChainAsync("filter", ForwardChain, cancellationToken);
            await EnsureJumpAsync("filter", "DOCKER-USER", ForwardChain, cancellationToken);
            await EnsureChainAsync("filter", HostAllowChain, cancellationToken);
            foreach (var rule in Rules(bridgeInterface, proxyPort).Where(r => transparent || r.Table != "nat"))
            {
                await EnsureRuleAsync(rule.Table, rule.Chain, rule.Spec, cancellationToken);
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task RemoveAsync(string bridgeInterface, int proxyPort, CancellationToken cancellationToken)
    {
        await Gate.WaitAsync(cancellationToken);
        try
        {
            foreach (var rule in Rules(bridgeInterface, proxyPort))
            {
                // Absent rules (no redirect on an internal network) fail to delete: nothing to do.
                await RunAsync(["-t", rule.Table, "-D", rule.Chain, .. rule.Spec], cancellationToken);
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>The rules for one bridge, in order.</summary>
    internal static IEnumerable<(string Table, string Chain, string[] Spec)> Rules(string bridge, int proxyPort) =>
        Rules(bridge, proxyPort, EgressNode.BridgeAddress(bridge));

    /// <summary>The rules for one bridge whose gateway address is <paramref name="gateway"/> (the proxy listens there).</summary>
    internal static IEnumerable<(string Table, string Chain, string[] Spec)> Rules(string bridge, int proxyPort, IPAddress? gateway)
    {
        var port = proxyPort.ToString(CultureInfo.InvariantCulture);
        yield return ("nat", NatChain, ["-i", bridge, "-p", "tcp", "-m", "multiport", "--dports", "80,443", "-j", "REDIRECT", "--to-ports", port]);
        // Only the proxy's own address: the same port on another host address (another bridge's gateway, a host service
        // that happens to use it) stays closed. REDIRECT rewrites to this address too.
        yield return ("filter", HostAllowChain, gateway is null
            ? ["-i", bridge, "-p", "tcp", "--dport", port, "-j", "ACCEPT"]
            : ["-i", bridge, "-d", gateway.ToString(), "-p", "tcp", "--dport", port, "-j", "ACCEPT"]);
        yield return ("filter", ForwardChain, ["-i", bridge, "!", "-o", bridge, "-j", "DROP"]);
    }

    private async Task EnsureChainAsync(string table, string chain, CancellationToken cancellationToken)
    {
        if ((await RunAsync(["-t", table, "-n", "-L", chain], cancellationToken)).ExitCode == 0)
        {
            return;
        }

        var created = await RunAsync(["-t", table, "-N", chain], cancellationToken);
        if (created.ExitCode != 0 && !created.Output.Contains("exists", StringComparison.OrdinalIgnoreCase) && !created.Output.Contains("incompatible", StringComparison.OrdinalIgnoreCase))
        {
            throw new EgressFirewallException($"iptables -t {table} -N {chain} failed ({created.ExitCode}): {created.Output}");
        }

        Log.FirewallCommand(logger, $"-t {table} -N {chain}");
    }

    private Task EnsureJumpAsync(string table, string from, string to, CancellationToken cancellationToken) =>
        EnsureRuleAsync(table, from, ["-j", to], cancellationToken, insert: true);

    private async Task EnsureRuleAsync(string table, string chain, string[] spec, CancellationToken cancellationToken, bool insert = false)
    {
        if ((await RunAsync(["-t", table, "-C", chain, .. spec], cancellationToken)).ExitCode == 0)
        {
            return;
        }

        string[] args = insert ? ["-t", table, "-I", chain, "1", .. spec] : ["-t", table, "-A", chain, .. spec];
        var result = await RunAsync(args, cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new EgressFirewallException($"iptables {string.Join(' ', args)} failed ({result.ExitCode}): {result.Output}");
        }

        Log.FirewallCommand(logger, string.Join(' ', args));
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("iptables") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-w");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(start) ?? throw new EgressFirewallException("iptables could not be started.");
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            return (process.ExitCode, (await stdout) + (await stderr));
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new EgressFirewallException($"iptables could not be run: {ex.Message}. The egress policy needs iptables and root.");
        }
    }
}
