using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Berth.Egress;

/// <summary>
/// Which resolved addresses the egress proxy may connect to (SSRF guard). Applied after DNS resolution to every address
/// a name resolves to, and to nothing the container chose: the proxy connects only to an address this filter passed.
/// <para>
/// Never: loopback (<c>127.0.0.0/8</c>, <c>::1</c>), unspecified (<c>0.0.0.0/8</c>, <c>::</c>), multicast
/// (<c>224.0.0.0/4</c>, <c>ff00::/8</c>), reserved and broadcast (<c>240.0.0.0/4</c>).
/// By default also: RFC 1918 (<c>10/8</c>, <c>172.16/12</c>, <c>192.168/16</c>), CGNAT (<c>100.64/10</c>), link-local
/// (<c>169.254/16</c>, <c>fe80::/10</c>), ULA (<c>fc00::/7</c>), every address of this host and every subnet on one of
/// its interfaces (Docker and Berth bridges, so other tenants' containers and the bridge gateways), unless the address
/// is inside one of <see cref="EgressOptions.AllowedPrivateNetworks"/>. IPv4-mapped (<c>::ffff:a.b.c.d</c>),
/// IPv4-compatible (<c>::a.b.c.d</c>) and NAT64 (<c>64:ff9b::/96</c>) forms are judged by their IPv4 address.
/// </para>
/// </summary>
public sealed class EgressAddressFilter
{
    private static readonly IPNetwork[] Never =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("ff00::/8"),
    ];

    private static readonly IPNetwork[] Private =
    [
        IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("192.0.0.0/24"),
        IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    private readonly IReadOnlyList<IPNetwork> _exceptions;
    private readonly Func<IReadOnlyList<IPNetwork>> _localNetworks;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private IReadOnlyList<IPNetwork>? _local;
    private long _localReadAt;

    /// <summary>Creates a filter.</summary>
    /// <param name="exceptions">Private networks the proxy may reach anyway (<see cref="EgressOptions.AllowedPrivateNetworks"/>, parsed).</param>
    /// <param name="localNetworks">This host's addresses (as /32 or /128) and its interfaces' subnets; <see langword="null"/> reads the host's interfaces (<see cref="HostNetworks"/>), at most once a second.</param>
    /// <param name="time">The clock for the interface cache; <see langword="null"/> means <see cref="TimeProvider.System"/>.</param>
    public EgressAddressFilter(IEnumerable<IPNetwork> exceptions, Func<IReadOnlyList<IPNetwork>>? localNetworks = null, TimeProvider? time = null)
    {
        _exceptions = [.. exceptions];
        _localNetworks = localNetworks ?? HostNetworks;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Whether the proxy may connect to <paramref name="address"/>; <paramref name="reason"/> names the range that refused it.</summary>
    /// <param name="address">A resolved address.</param>
    /// <param name="reason">Why it is refused, for logs (for example <c>private network 10.0.0.0/8</c>); empty when allowed.</param>
    public bool IsAllowed(IPAddress address, out string reason)
    {
        address = Embedded(address);
        foreach (var network in Never)
        {
            if (network.Contains(address))
            {
                reason = $"reserved network {network}";
                return false;
            }
        }

        if (address.AddressFamily == AddressFamily.InterNetwork && address.Equals(IPAddress.Broadcast))
        {
            reason = "broadcast";
            return false;
        }

        foreach (var network in _exceptions)
        {
            if (network.Contains(address))
            {
                reason = "";
                return true;
            }
        }

        foreach (var network in Private)
        {
            if (network.Contains(address))
            {
                reason = $"private network {network}";
                return false;
            }
        }

        foreach (var network in LocalNetworks())
        {
            if (network.Contains(address))
            {
                reason = $"this host's network {network}";
                return false;
            }
        }

        reason = "";
        return true;
    }

    /// <summary>This host's addresses (each as a single-address network) and the subnets of all its interfaces that are up.</summary>
    public static IReadOnlyList<IPNetwork> HostNetworks()
    {
        var networks = new List<IPNetwork>();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                var address = unicast.Address;
                if (address.IsIPv6LinkLocal)
                {
                    address = new IPAddress(address.GetAddressBytes());
                }

                var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
                networks.Add(new IPNetwork(address, bits));
                if (unicast.PrefixLength > 0 && unicast.PrefixLength < bits)
                {
                    networks.Add(new IPNetwork(Mask(address, unicast.PrefixLength), unicast.PrefixLength));
                }
            }
        }

        return networks;
    }

    private IReadOnlyList<IPNetwork> LocalNetworks()
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (_local is null || _time.GetElapsedTime(_localReadAt, now) >= TimeSpan.FromSeconds(1))
            {
                _local = _localNetworks();
                _localReadAt = now;
            }

            return _local;
        }
    }

    private static IPAddress Embedded(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        var compatible = bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && !(bytes[12] == 0 && bytes[13] == 0 && bytes[14] == 0);
        if (compatible || Nat64.Contains(address))
        {
            return new IPAddress(bytes.AsSpan(12, 4));
        }

        return new IPAddress(bytes);
    }

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xff << (8 - keep));
        }

        return new IPAddress(bytes);
    }
}
