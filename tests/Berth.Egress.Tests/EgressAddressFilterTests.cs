using System.Net;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Egress.Tests;

public sealed class EgressAddressFilterTests
{
    private static EgressAddressFilter Filter(string[]? exceptions = null, string[]? local = null) =>
        new((exceptions ?? []).Select(e => IPNetwork.Parse(e)), () => [.. (local ?? []).Select(l => IPNetwork.Parse(l))], new FakeTimeProvider());

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.9.9.9")]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("10.1.2.3")]
    [InlineData("172.17.0.1")]
    [InlineData("172.31.255.254")]
    [InlineData("192.168.1.1")]
    [InlineData("100.64.0.1")]
    [InlineData("100.127.255.255")]
    [InlineData("169.254.169.254")]
    [InlineData("224.0.0.1")]
    [InlineData("239.255.255.250")]
    [InlineData("240.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("fe80::1")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::127.0.0.1")]
    [InlineData("64:ff9b::a00:1")]
    public void IsAllowed_ReservedOrPrivate_Refused(string address)
    {
        Assert.False(Filter().IsAllowed(IPAddress.Parse(address), out var reason));
        Assert.NotEmpty(reason);
    }

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:2800:220:1:248:1893:25c8:1946")]
    [InlineData("::ffff:93.184.216.34")]
    public void IsAllowed_Public_Allowed(string address) =>
        Assert.True(Filter().IsAllowed(IPAddress.Parse(address), out _));

    [Fact]
    public void IsAllowed_AddressOnAHostInterfaceNetwork_Refused()
    {
        // A bridge (or the host's public interface) in a range that is not private: still the host's, refused.
        var filter = Filter(local: ["198.51.100.0/24", "203.0.113.7/32", "2001:db8:1::/64"]);

        Assert.False(filter.IsAllowed(IPAddress.Parse("198.51.100.20"), out var reason));
        Assert.Contains("this host's network", reason, StringComparison.Ordinal);
        Assert.False(filter.IsAllowed(IPAddress.Parse("203.0.113.7"), out _));
        Assert.False(filter.IsAllowed(IPAddress.Parse("::ffff:203.0.113.7"), out _));
        Assert.False(filter.IsAllowed(IPAddress.Parse("2001:db8:1::5"), out _));
        Assert.True(filter.IsAllowed(IPAddress.Parse("203.0.113.8"), out _));
    }

    [Fact]
    public void IsAllowed_ListedPrivateNetwork_AllowedButLoopbackNever()
    {
        var filter = Filter(exceptions: ["10.20.0.0/16", "127.0.0.0/8", "0.0.0.0/0"]);

        Assert.True(filter.IsAllowed(IPAddress.Parse("10.20.1.1"), out _));
        Assert.False(filter.IsAllowed(IPAddress.Parse("127.0.0.1"), out _));
        Assert.False(filter.IsAllowed(IPAddress.Parse("0.0.0.0"), out _));
        Assert.False(filter.IsAllowed(IPAddress.Parse("224.0.0.1"), out _));
    }

    [Fact]
    public void HostNetworks_ThisHost_ContainsLoopbackAndEveryInterfaceAddress()
    {
        var networks = EgressAddressFilter.HostNetworks();
        var address = EgressProxyTests.HostAddress();

        Assert.Contains(networks, n => n.Contains(IPAddress.Loopback));
        Assert.Contains(networks, n => n.Contains(address) && n.PrefixLength == 32);
        Assert.Contains(networks, n => n.Contains(address) && n.PrefixLength < 32);
    }

    [Theory]
    [InlineData("10.0.0.0/8", true)]
    [InlineData("fd00::/8", true)]
    [InlineData("10.0.0.1", false)]
    [InlineData("10.0.0.1/8", false)]
    [InlineData("nonsense/8", false)]
    [InlineData("10.0.0.0/33", false)]
    public void Options_AllowedPrivateNetworks_Validated(string network, bool valid)
    {
        var options = new EgressOptions();
        options.AllowedPrivateNetworks.Add(network);
        Assert.Equal(valid, options.Validate().Count == 0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public void Options_AllowedPortOutOfRange_Invalid(int port)
    {
        var options = new EgressOptions();
        options.AllowedPorts.Add(port);
        Assert.Contains(options.Validate(), e => e.Contains("AllowedPorts", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_Defaults_Ports80And443AndCap256()
    {
        var options = new EgressOptions();
        Assert.Equal([80, 443], options.EffectivePorts().Order());
        Assert.Equal(256, options.MaxConnectionsPerContainer);
        Assert.Empty(options.Validate());
    }
}
