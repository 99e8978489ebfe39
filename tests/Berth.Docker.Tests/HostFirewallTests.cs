namespace Berth.Docker.Tests;

/// <summary>The host firewall's install logic against a fake <c>iptables</c> that keeps its rules in memory.</summary>
public class HostFirewallTests
{
    [Fact]
    public async Task EnsureInstalled_EmptyHost_CreatesBothChainsAndJumpsFirstFromInputWithDropLast()
    {
        var iptables = new FakeIptables();

        await new HostFirewall(iptables.RunAsync, null).EnsureInstalledAsync();

        Assert.Equal(
            [
                "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
                "-j BERTH-HOST-ALLOW",
                "-j DROP",
            ],
            iptables.Chains[HostFirewall.InputChain]);
        Assert.Empty(iptables.Chains[HostFirewall.AllowChain]);
        Assert.Equal("-i bb-+ -j BERTH-INPUT", iptables.Chains["INPUT"][0]);
    }

    [Fact]
    public async Task EnsureInstalled_TwiceAndByASecondNode_AddsNothingAndKeepsTheAllowChainsRules()
    {
        var iptables = new FakeIptables();
        await new HostFirewall(iptables.RunAsync, null).EnsureInstalledAsync();
        iptables.Chains[HostFirewall.AllowChain].Add("-p tcp --dport 3128 -j ACCEPT");

        await new HostFirewall(iptables.RunAsync, null).EnsureInstalledAsync();

        Assert.Equal(3, iptables.Chains[HostFirewall.InputChain].Count);
        Assert.Single(iptables.Chains["INPUT"], r => r.Contains("BERTH-INPUT", StringComparison.Ordinal));
        Assert.Equal(["-p tcp --dport 3128 -j ACCEPT"], iptables.Chains[HostFirewall.AllowChain]);
    }

    [Fact]
    public async Task EnsureInstalled_IptablesRefusesARule_ThrowsWithItsOutputThenRetriesOnTheNextCall()
    {
        var iptables = new FakeIptables { FailAppend = true };
        var firewall = new HostFirewall(iptables.RunAsync, null);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => firewall.EnsureInstalledAsync());

        Assert.Contains("permission denied (you must be root)", error.Message, StringComparison.Ordinal);
        iptables.FailAppend = false;
        await firewall.EnsureInstalledAsync();
        Assert.Equal(3, iptables.Chains[HostFirewall.InputChain].Count);
    }

    [Fact]
    public void BridgeInterface_AnyNetworkName_IsBbAnd8HexDigitsAndStable()
    {
        var name = BerthNames.BridgeInterface("berth-some-very-long-application-name-internal");

        Assert.Matches("^bb-[0-9a-f]{8}$", name);
        Assert.Equal(name, BerthNames.BridgeInterface("berth-some-very-long-application-name-internal"));
        Assert.NotEqual(name, BerthNames.BridgeInterface("berth-some-very-long-application-name"));
    }

    private sealed class FakeIptables
    {
        public Dictionary<string, List<string>> Chains { get; } = new(StringComparer.Ordinal) { ["INPUT"] = ["-j ACCEPT-SOMETHING-ELSE"] };

        public bool FailAppend { get; set; }

        public Task<(int ExitCode, string Output)> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
        {
            Assert.Equal(["-w", "10"], arguments.Take(2));
            var op = arguments[2];
            var chain = arguments[3];
            var rest = arguments.Skip(4).ToList();
            return Task.FromResult(op switch
            {
                "-S" => Chains.ContainsKey(chain) ? (0, "") : (1, "iptables: No chain/target/match by that name."),
                "-N" when Chains.ContainsKey(chain) => (1, "iptables: Chain already exists."),
                "-N" => Add(() => Chains[chain] = []),
                "-C" => Chains.TryGetValue(chain, out var rules) && rules.Contains(string.Join(' ', rest)) ? (0, "") : (1, "Bad rule"),
                "-A" or "-I" when FailAppend => (4, "iptables v1.8.9: permission denied (you must be root)"),
                "-A" => Add(() => Chains[chain].Add(string.Join(' ', rest))),
                "-I" => Add(() => Chains[chain].Insert(int.Parse(rest[0], System.Globalization.CultureInfo.InvariantCulture) - 1, string.Join(' ', rest.Skip(1)))),
                _ => throw new InvalidOperationException($"unexpected iptables {string.Join(' ', arguments)}"),
            });
        }

        private static (int, string) Add(Action change)
        {
            change();
            return (0, "");
        }
    }
}
