using System.Net;

namespace Berth.Egress.Tests;

public sealed class EgressFirewallRulesTests
{
    [Fact]
    public void Rules_ProxyPortAllowed_OnlyOnTheBridgesGatewayAddress()
    {
        var rules = IptablesEgressFirewall.Rules("bb-0123abcd", 3129, IPAddress.Parse("172.30.0.1")).ToList();

        var allow = Assert.Single(rules, r => r.Chain == IptablesEgressFirewall.HostAllowChain);
        Assert.Equal(["-i", "bb-0123abcd", "-d", "172.30.0.1", "-p", "tcp", "--dport", "3129", "-j", "ACCEPT"], allow.Spec);
    }
}
