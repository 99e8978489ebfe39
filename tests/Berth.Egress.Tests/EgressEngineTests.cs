using System.Net;
using System.Net.Sockets;

namespace Berth.Egress.Tests;

/// <summary>
/// The egress path against the real engine and the host firewall: a busybox client on a filtered network, a stand-in
/// internet on its own network. Every case also checks that the direct route stays closed.
/// </summary>
public sealed class EgressEngineTests(EgressEngineFixture fixture) : IClassFixture<EgressEngineFixture>
{
    private string ProxyEnv => $"export http_proxy=http://{fixture.Proxy.Address}:{fixture.Proxy.Port}; ";

    /// <summary>A shell command that sends one raw request through the proxy with nc and prints the whole answer (head and JSON body).</summary>
    private string RawThroughProxy(string target, string host) =>
        $"printf 'GET {target} HTTP/1.1\\r\\nHost: {host}\\r\\n\\r\\n' | nc -w 5 {fixture.Proxy.Address} {fixture.Proxy.Port}";

    private EgressClient Use(EgressPolicy policy)
    {
        var client = new EgressClient("EgressTest/1", policy, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        fixture.Node.Clients.Register(fixture.ClientAddress, client);
        return client;
    }

    [Fact]
    public async Task AllowList_AllowedHostThroughHttpProxy_200()
    {
        var client = Use(EgressPolicy.Create(true, ["allowed.test"], []));
        var (code, output) = await fixture.ClientAsync(ProxyEnv + "wget -q -O - http://allowed.test/");
        Assert.Equal(0, code);
        Assert.Equal("hello\n", output);
        Assert.True(client.BytesIn > 0 && client.BytesOut > 0);
    }

    [Fact]
    public async Task AllowList_OtherHostThroughHttpProxy_403()
    {
        Use(EgressPolicy.Create(true, ["allowed.test"], []));
        var (code, output) = await fixture.ClientAsync(ProxyEnv + "wget -O - http://other.test/ 2>&1");
        Assert.NotEqual(0, code);
        Assert.Contains("403", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DenyGlob_BeatsAllowGlob_403ButOthersPass()
    {
        Use(EgressPolicy.Create(true, ["*.test"], ["secret.*"]));
        var denied = await fixture.ClientAsync(ProxyEnv + "wget -O - http://secret.test/ 2>&1");
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("403", denied.Output, StringComparison.Ordinal);
        var allowed = await fixture.ClientAsync(ProxyEnv + "wget -q -O - http://allowed.test/");
        Assert.Equal("hello\n", allowed.Output);
    }

    [Fact]
    public async Task IgnoringHttpProxy_Port80IsFilteredAndOtherPortsHaveNoRoute()
    {
        Use(EgressPolicy.Create(true, ["allowed.test"], []));
        // The stand-in answers on 8081 to anyone with a route (the host has one).
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            Assert.Equal("hello\n", await http.GetStringAsync(new Uri($"http://{fixture.StandIn}:8081/")));
        }

        var s = fixture.StandIn;
        // No proxy variable: TCP 80 is redirected to the proxy, which goes by the Host header.
        var byName = await fixture.ClientAsync($"grep -q allowed.test /etc/hosts || echo '{s} allowed.test' >> /etc/hosts; wget -q -O - http://allowed.test/");
        Assert.Equal("hello\n", byName.Output);
        var byAddress = await fixture.ClientAsync($"wget -O - http://{s}/ 2>&1");
        Assert.NotEqual(0, byAddress.ExitCode);
        Assert.Contains("403", byAddress.Output, StringComparison.Ordinal);
        var otherPort = await fixture.ClientAsync($"nc -w 3 {s} 8081 </dev/null && echo CONNECTED || echo REFUSED");
        Assert.DoesNotContain("CONNECTED", otherPort.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ssrf_NamesResolvingToHostOrBridgeOrNeighbour_403AddressDenied()
    {
        Use(EgressPolicy.Create(true, ["*.test"], []));
        // The filtered bridge's gateway (the host), the stand-in's network's gateway (another bridge) and the client itself (a tenant container).
        var standInGateway = new IPAddress([.. fixture.StandIn.GetAddressBytes()[..3], 1]);
        fixture.Names["gateway.test"] = fixture.Proxy.Address;
        fixture.Names["bridge.test"] = standInGateway;
        fixture.Names["neighbour.test"] = fixture.ClientAddress;
        foreach (var name in new[] { "gateway.test", "bridge.test", "neighbour.test" })
        {
            var (_, output) = await fixture.ClientAsync(RawThroughProxy($"http://{name}/", name));
            Assert.StartsWith("HTTP/1.1 403", output, StringComparison.Ordinal);
            Assert.Contains(EgressErrorCodes.AddressDenied, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task IpLiteralAndOtherPort_ThroughHttpProxyWithDenyListOnly_403()
    {
        Use(EgressPolicy.Create(true, [], ["secret.test"]));
        var literal = await fixture.ClientAsync(RawThroughProxy($"http://{fixture.StandIn}/", fixture.StandIn.ToString()));
        Assert.StartsWith("HTTP/1.1 403", literal.Output, StringComparison.Ordinal);
        Assert.Contains("ip literal", literal.Output, StringComparison.Ordinal);
        var port = await fixture.ClientAsync(RawThroughProxy("http://allowed.test:8081/", "allowed.test:8081"));
        Assert.StartsWith("HTTP/1.1 403", port.Output, StringComparison.Ordinal);
        Assert.Contains(EgressErrorCodes.PortDenied, port.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowedName_ContainerPicksAnotherAddress_ProxyConnectsToTheResolvedOne()
    {
        Use(EgressPolicy.Create(true, ["allowed.test"], []));
        // 198.51.100.1 (TEST-NET-2, documentation only) answers nowhere; a container dialling it for an allowed host still reaches only the allowed host.
        var (_, output) = await fixture.ClientAsync("wget -q -O - --header 'Host: allowed.test' http://198.51.100.1/");
        Assert.Equal("hello\n", output);
    }

    [Fact]
    public async Task InternetOff_NothingGetsOut_TcpUdpDnsHttpProxy()
    {
        Use(EgressPolicy.Create(false, [], []));
        var s = fixture.StandIn;
        using var udp = await fixture.UdpInStandInAsync(53);

        // The UDP receiver works: the host (which has a route) reaches it.
        using (var probe = new UdpClient())
        {
            await probe.SendAsync("probe"u8.ToArray(), new IPEndPoint(s, 53));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var received = await udp.ReceiveAsync(cts.Token);
            Assert.Equal("probe", System.Text.Encoding.ASCII.GetString(received.Buffer));
        }

        var proxied = await fixture.ClientAsync(ProxyEnv + "wget -O - http://allowed.test/ 2>&1");
        Assert.Contains("403", proxied.Output, StringComparison.Ordinal);
        var transparent = await fixture.ClientAsync($"wget -O - http://{s}/ 2>&1");
        Assert.Contains("403", transparent.Output, StringComparison.Ordinal);
        var tcp = await fixture.ClientAsync($"nc -w 3 {s} 8081 </dev/null && echo CONNECTED || echo REFUSED");
        Assert.DoesNotContain("CONNECTED", tcp.Output, StringComparison.Ordinal);
        // DNS (UDP 53) to the stand-in: nslookup fails, and nothing arrives.
        var dns = await fixture.ClientAsync($"nslookup -timeout=2 allowed.test {s} 2>&1; echo exit=$?");
        Assert.DoesNotContain("exit=0", dns.Output, StringComparison.Ordinal);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await udp.ReceiveAsync(wait.Token));
    }

    [Fact]
    public async Task Tls_AllowedSniReachesStandIn_DeniedSniIsClosed()
    {
        Use(EgressPolicy.Create(true, ["allowed.test"], []));
        var s = fixture.StandIn;
        await fixture.StandInAsync(": > /tmp/tls.log");

        // busybox has no working TLS client: send a ClientHello by hand to the stand-in's address on 443 (no proxy variable).
        await fixture.ClientAsync($"printf '{Octal(Hello("other.test"))}' | nc -w 3 {s} 443; echo exit=$?");
        await Task.Delay(500);
        Assert.DoesNotContain("other.test", await fixture.StandInAsync("cat /tmp/tls.log"), StringComparison.Ordinal);

        await fixture.ClientAsync($"printf '{Octal(Hello("allowed.test"))}' | nc -w 3 {s} 443; echo exit=$?");
        // The stand-in is no TLS server, but it received the ClientHello, whose SNI names the allowed host.
        var received = "";
        for (var i = 0; i < 20 && !received.Contains("allowed.test", StringComparison.Ordinal); i++)
        {
            await Task.Delay(250);
            received = await fixture.StandInAsync("cat /tmp/tls.log");
        }

        Assert.Contains("allowed.test", received, StringComparison.Ordinal);
    }

    private static byte[] Hello(string host) =>
        TlsClientHelloTests.Record(TlsClientHelloTests.Handshake(TlsClientHelloTests.HelloBody(TlsClientHelloTests.SniExtension(host))));

    private static string Octal(byte[] bytes) =>
        string.Concat(bytes.Select(b => "\\" + Convert.ToString(b, 8).PadLeft(3, '0')));

    [Fact]
    public async Task Streamed50MbDownloadAndUpload_ThroughProxy_CountedBothWays()
    {
        var client = Use(EgressPolicy.Create(true, ["allowed.test"], []));
        const long fifty = 50L * 1024 * 1024;
        var download = await fixture.ClientAsync(ProxyEnv + "wget -q -O - http://allowed.test/big | wc -c");
        Assert.Equal(fifty.ToString(System.Globalization.CultureInfo.InvariantCulture), download.Output.Trim());
        Assert.True(client.BytesIn >= fifty, $"in {client.BytesIn}");

        // busybox wget --post-file sends no Content-Length; a raw absolute-form request through the proxy streams the body.
        var upload = await fixture.ClientAsync(
            "{ printf 'POST http://allowed.test/cgi-bin/count HTTP/1.1\\r\\nHost: allowed.test\\r\\nContent-Length: 52428800\\r\\n\\r\\n'; " +
            $"dd if=/dev/zero bs=1048576 count=50 2>/dev/null; sleep 5; }} | nc {fixture.Proxy.Address} {fixture.Proxy.Port} | tail -1");
        Assert.Equal(fifty.ToString(System.Globalization.CultureInfo.InvariantCulture), upload.Output.Trim());
        Assert.True(client.BytesOut >= fifty, $"out {client.BytesOut}");
    }
}
