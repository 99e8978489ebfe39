using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Berth.Docker;

/// <summary>
/// Keeps containers off the host's own services. Every Berth network's bridge is named <c>bb-…</c>
/// (<see cref="BerthNames.BridgeInterface"/>), so one iptables rule matches every packet a Berth container sends to any
/// address of the host (its bridge gateway, <c>docker0</c>, other bridges, the host's own interfaces):
/// <code>
/// INPUT -i bb-+ -j BERTH-INPUT                        (inserted first)
/// BERTH-INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT   (replies to the gateway's own connections)
/// BERTH-INPUT -j BERTH-HOST-ALLOW                     (host services containers may use, e.g. the egress proxy)
/// BERTH-INPUT -j DROP
/// </code>
/// <see cref="AllowChain"/> is created empty and never flushed: the egress component appends its ACCEPT rules there.
/// Installed idempotently (each rule is checked with <c>-C</c> before it is added), never removed: without containers on
/// <c>bb-</c> bridges the rules match nothing. Traffic between containers never reaches INPUT: Docker's own isolation
/// chains and inter-container communication off (<see cref="DockerContainerRuntime.EnsureNetworkAsync"/>) stop it.
/// </summary>
/// <remarks>
/// The rules are written by running <c>iptables -w</c>: .NET has no maintained netfilter library, and the <c>iptables</c>
/// command is what Docker itself drives on the same host, so it picks the same backend (nf_tables or legacy) Docker's
/// rules live in. <c>-w</c> waits for the xtables lock Docker holds while it edits its own chains.
/// </remarks>
public sealed class HostFirewall
{
    /// <summary>The chain INPUT jumps to for traffic from Berth's bridges.</summary>
    public const string InputChain = "BERTH-INPUT";

    /// <summary>The chain of host services containers may reach; created empty, filled by the egress component.</summary>
    public const string AllowChain = "BERTH-HOST-ALLOW";

    /// <summary>How long one <c>iptables</c> call may wait for the xtables lock, in seconds.</summary>
    private const string LockWaitSeconds = "10";

    private static readonly SemaphoreSlim Gate = new(1, 1);

    private static readonly string[][] InputRules =
    [
        ["-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"],
        ["-j", AllowChain],
        ["-j", "DROP"],
    ];

    private readonly Func<IReadOnlyList<string>, CancellationToken, Task<(int ExitCode, string Output)>> _run;
    private readonly ILogger _logger;
    private Task? _installed;

    /// <summary>Creates the firewall installer that runs the host's <c>iptables</c>.</summary>
    /// <param name="logger">Where installs and failures are logged.</param>
    public HostFirewall(ILogger<HostFirewall>? logger = null)
        : this(RunIptablesAsync, logger)
    {
    }

    /// <summary>Creates the installer with another command runner (tests).</summary>
    internal HostFirewall(Func<IReadOnlyList<string>, CancellationToken, Task<(int ExitCode, string Output)>> run, ILogger? logger)
    {
        _run = run;
        _logger = logger ?? NullLogger<HostFirewall>.Instance;
    }

    /// <summary>The iptables match for every Berth bridge: <c>bb-+</c>.</summary>
    public static string BridgeMatch => BerthNames.BridgeInterfacePrefix + "+";

    /// <summary>
    /// Installs the rules once per instance (later calls return the same result; a failed install is tried again on the
    /// next call).
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the install itself runs to its end.</param>
    /// <exception cref="InvalidOperationException"><c>iptables</c> is missing or refused a rule; the message has its output.</exception>
    public async Task EnsureInstalledAsync(CancellationToken cancellationToken = default)
    {
        var installed = Volatile.Read(ref _installed);
        if (installed is null)
        {
            var fresh = InstallAsync();
            installed = Interlocked.CompareExchange(ref _installed, fresh, null) ?? fresh;
        }

        try
        {
            await installed.WaitAsync(cancellationToken);
        }
        catch (InvalidOperationException)
        {
            _ = Interlocked.CompareExchange(ref _installed, null, installed);
            throw;
        }
    }

    private async Task InstallAsync()
    {
        // One install at a time in this process; iptables' own lock serializes single commands across processes, and
        // the order below (each rule checked, then appended after the ones before it) keeps DROP last even when two
        // processes install at once (at worst a rule appears twice, which changes nothing).
        await Gate.WaitAsync(CancellationToken.None);
        try
        {
            await EnsureChainAsync(AllowChain);
            await EnsureChainAsync(InputChain);
            foreach (var rule in InputRules)
            {
                await EnsureRuleAsync(InputChain, rule, insert: false);
            }

            await EnsureRuleAsync("INPUT", ["-i", BridgeMatch, "-j", InputChain], insert: true);
            _logger.HostFirewallInstalled(InputChain, BridgeMatch);
        }
        catch (InvalidOperationException e)
        {
            _logger.HostFirewallFailed(e.Message);
            throw;
        }
        finally
        {
            Gate.Release();
        }
    }

    private async Task EnsureChainAsync(string chain)
    {
        if ((await _run(["-w", LockWaitSeconds, "-S", chain], CancellationToken.None)).ExitCode == 0)
        {
            return;
        }

        var (code, output) = await _run(["-w", LockWaitSeconds, "-N", chain], CancellationToken.None);
        if (code != 0 && !output.Contains("exists", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"iptables could not create chain {chain} (exit {code}): {output.Trim()}");
        }
    }

    private async Task EnsureRuleAsync(string chain, IReadOnlyList<string> rule, bool insert)
    {
        if ((await _run(["-w", LockWaitSeconds, "-C", chain, .. rule], CancellationToken.None)).ExitCode == 0)
        {
            return;
        }

        string[] add = insert ? ["-w", LockWaitSeconds, "-I", chain, "1", .. rule] : ["-w", LockWaitSeconds, "-A", chain, .. rule];
        var (code, output) = await _run(add, CancellationToken.None);
        if (code != 0)
        {
            throw new InvalidOperationException($"iptables could not add '{string.Join(' ', add.Skip(2))}' (exit {code}): {output.Trim()}");
        }
    }

    private static async Task<(int ExitCode, string Output)> RunIptablesAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("iptables")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("iptables did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException(
                $"iptables could not be run ({e.Message}); install it (Debian: apt-get install iptables) and run Berth as root, "
                + "or set Docker:HostFirewall to false when the engine does not run on this host.", e);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            return (process.ExitCode, await stdout + await stderr);
        }
    }
}
