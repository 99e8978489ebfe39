using System.Collections.Concurrent;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Egress.Tests;

/// <summary>The proxy in process: a client on 127.0.0.1, stand-in upstreams on a non-loopback host address (the proxy never connects to loopback).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes through IAsyncLifetime.DisposeAsync.")]
public sealed class EgressProxyTests : IAsyncLifetime
{
    private readonly EgressClients _clients = new();
    private readonly FakeTimeProvider _time = new();
    private readonly Dictionary<string, IPAddress> _names = new(StringComparer.Ordinal);
    private readonly CapturingLogger _objectLog = new();
    private readonly StandIn _upstream = new(HostAddress());
    private EgressProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        _names["allowed.test"] = _upstream.Address;
        _names["secret.test"] = _upstream.Address;
        _names["other.test"] = _upstream.Address;
        _names["loop.test"] = IPAddress.Loopback;
        _upstream.Start();

        // The stand-in "internet" is a private host address: reachable only because the tests list it.
        await StartProxyAsync(options =>
        {
            options.AllowedPrivateNetworks.Add($"{_upstream.Address}/32");
            options.AllowedPorts.Add(_upstream.Port);
        });
    }

    /// <summary>Replaces the proxy with one whose options <paramref name="configure"/> sets (from the defaults).</summary>
    private async Task StartProxyAsync(Action<EgressOptions> configure)
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        var options = new EgressOptions();
        configure(options);
        Assert.Empty(options.Validate());
        _proxy = new EgressProxy(_clients, Resolve, Options.Create(options), _time, NullLogger<EgressProxy>.Instance);
        await _proxy.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        _upstream.Dispose();
    }

    private readonly Dictionary<string, IPAddress[]> _multi = new(StringComparer.Ordinal);

    private Task<IPAddress[]> Resolve(string host, CancellationToken cancellationToken) =>
        _multi.TryGetValue(host, out var many) ? Task.FromResult(many)
        : _names.TryGetValue(host, out var address) ? Task.FromResult(new[] { address }) : throw new SocketException((int)SocketError.HostNotFound);

    private EgressClient Register(EgressPolicy policy)
    {
        var client = new EgressClient("Sandbox/1", policy, _objectLog);
        _clients.Register(IPAddress.Loopback, client);
        return client;
    }

    private HttpClient ProxiedClient() =>
        new(new SocketsHttpHandler { Proxy = new WebProxy($"http://127.0.0.1:{_proxy.LocalEndPoint!.Port}"), UseProxy = true }) { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task ExplicitHttp_AllowedHost_ForwardsOriginFormAndCountsBytes()
    {
        var client = Register(EgressPolicy.Create(true, ["allowed.test"], []));
        using var http = ProxiedClient();

        var body = await http.GetStringAsync(new Uri($"http://allowed.test:{_upstream.Port}/x?y=1"));

        Assert.Equal("hello", body);
        var seen = Assert.Single(_upstream.Heads);
        Assert.StartsWith("GET /x?y=1 HTTP/1.1\r\n", seen, StringComparison.Ordinal);
        Assert.Contains($"Host: allowed.test:{_upstream.Port}\r\n", seen, StringComparison.Ordinal);
        Assert.True(client.BytesOut >= seen.Length - 40, $"out {client.BytesOut}");
        Assert.True(client.BytesIn >= "hello".Length, $"in {client.BytesIn}");
    }

    [Fact]
    public async Task ExplicitHttp_HostNotAllowed_403JsonNamesHostAndRuleAndLogs()
    {
        Register(EgressPolicy.Create(true, ["allowed.test"], []));
        using var http = ProxiedClient();

        using var response = await http.GetAsync(new Uri($"http://other.test:{_upstream.Port}/"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(EgressErrorCodes.Denied, json.RootElement.GetProperty("error").GetString());
        Assert.Equal("other.test", json.RootElement.GetProperty("host").GetString());
        Assert.Equal("not in allowed_hosts", json.RootElement.GetProperty("rule").GetString());
        Assert.Empty(_upstream.Heads);
        Assert.Contains(_objectLog.Messages, m => m.Contains("other.test", StringComparison.Ordinal) && m.Contains("not in allowed_hosts", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExplicitHttp_DenyGlobMatchesAllowedHost_403()
    {
        Register(EgressPolicy.Create(true, ["*.test"], ["secret.*"]));
        using var http = ProxiedClient();

        using var response = await http.GetAsync(new Uri($"http://secret.test:{_upstream.Port}/"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("denied_hosts 'secret.*'", json.RootElement.GetProperty("rule").GetString());
        Assert.Empty(_upstream.Heads);
    }

    [Fact]
    public async Task Connect_AllowedHost_TunnelsBytesBothWays()
    {
        var client = Register(EgressPolicy.Create(true, ["allowed.test"], []));
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT allowed.test:{_upstream.Port} HTTP/1.1\r\nHost: allowed.test:{_upstream.Port}\r\n\r\n"));
        var established = await ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 200", established, StringComparison.Ordinal);

        // Inside the tunnel: a plain request the stand-in answers.
        await stream.WriteAsync("GET /tunnel HTTP/1.1\r\nHost: allowed.test\r\n\r\n"u8.ToArray());
        var answer = await ReadToEndAsync(stream);
        Assert.EndsWith("hello", answer, StringComparison.Ordinal);
        Assert.StartsWith("GET /tunnel ", Assert.Single(_upstream.Heads), StringComparison.Ordinal);
        Assert.True(client.BytesIn > 0 && client.BytesOut > 0);
    }

    [Fact]
    public async Task Connect_InternetOff_403AndNothingUpstream()
    {
        Register(EgressPolicy.Create(false, [], []));
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT allowed.test:{_upstream.Port} HTTP/1.1\r\n\r\n"));
        var answer = await ReadToEndAsync(stream);
        Assert.StartsWith("HTTP/1.1 403", answer, StringComparison.Ordinal);
        Assert.Contains("enable_internet=false", answer, StringComparison.Ordinal);
        Assert.Equal(0, _upstream.Connections);
    }

    [Fact]
    public async Task Tls_SniNotAllowed_ClosedWithoutAnswer()
    {
        Register(EgressPolicy.Create(true, ["allowed.test"], []));
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);
        await stream.WriteAsync(TlsClientHelloTests.Record(TlsClientHelloTests.Handshake(TlsClientHelloTests.HelloBody(TlsClientHelloTests.SniExtension("other.test")))));
        Assert.Equal("", await ReadToEndAsync(stream));
        Assert.Equal(0, _upstream.Connections);
        Assert.Contains(_objectLog.Messages, m => m.Contains("other.test", StringComparison.Ordinal) && m.Contains("tls", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnknownSource_ClosedWithoutAnswer()
    {
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET http://allowed.test:{_upstream.Port}/ HTTP/1.1\r\n\r\n"));
        Assert.Equal("", await ReadToEndAsync(stream));
        Assert.Equal(0, _upstream.Connections);
    }

    [Fact]
    public async Task AllowedNameResolvingToLoopback_403AddressDeniedAndNoConnection()
    {
        Register(EgressPolicy.Create(true, ["*.test"], []));
        using var http = ProxiedClient();
        using var response = await http.GetAsync(new Uri($"http://loop.test:{_upstream.Port}/"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains(EgressErrorCodes.AddressDenied, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExplicitHttp_NameResolvingToHostAddress_403AddressDeniedAndNoConnection()
    {
        // Default address rules: the host's own (private, interface) address is what a container must never reach.
        await StartProxyAsync(options => options.AllowedPorts.Add(_upstream.Port));
        Register(EgressPolicy.Create(true, ["allowed.test"], []));
        using var http = ProxiedClient();

        using var response = await http.GetAsync(new Uri($"http://allowed.test:{_upstream.Port}/"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(EgressErrorCodes.AddressDenied, json.RootElement.GetProperty("error").GetString());
        Assert.Equal(0, _upstream.Connections);
    }

    [Fact]
    public async Task Connect_NameResolvingToHostAddressAmongPublicOnes_403AddressDeniedAndNoConnection()
    {
        // A rebinding-style answer: the host's address first, a public one after. Nothing is connected to.
        await StartProxyAsync(options => options.AllowedPorts.Add(_upstream.Port));
        _multi["mixed.test"] = [_upstream.Address, IPAddress.Parse("203.0.113.9")];
        Register(EgressPolicy.Create(true, ["*.test"], []));
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT mixed.test:{_upstream.Port} HTTP/1.1\r\n\r\n"));
        var answer = await ReadToEndAsync(stream);

        Assert.StartsWith("HTTP/1.1 403", answer, StringComparison.Ordinal);
        Assert.Contains(EgressErrorCodes.AddressDenied, answer, StringComparison.Ordinal);
        Assert.Equal(0, _upstream.Connections);
    }

    [Theory]
    [InlineData("2130706433")]
    [InlineData("127.0.0.1")]
    [InlineData("0x7f.1")]
    [InlineData("[::1]")]
    [InlineData("10.1.2.3")]
    public async Task ExplicitHttp_IpLiteralWithDenyListOnly_403DeniedNeverResolvedOrConnected(string literal)
    {
        Register(EgressPolicy.Create(true, [], ["secret.test"]));
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET http://{literal}:{_upstream.Port}/ HTTP/1.1\r\n\r\n"));
        var answer = await ReadToEndAsync(stream);

        Assert.StartsWith("HTTP/1.1 403", answer, StringComparison.Ordinal);
        Assert.Contains(EgressErrorCodes.Denied, answer, StringComparison.Ordinal);
        Assert.Contains("ip literal", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExplicitHttp_AllowedHostOnPortNotAllowed_403PortDeniedAndNoConnection()
    {
        // Default ports (80, 443); the stand-in listens elsewhere.
        await StartProxyAsync(options => options.AllowedPrivateNetworks.Add($"{_upstream.Address}/32"));
        Register(EgressPolicy.Create(true, ["allowed.test"], []));
        using var http = ProxiedClient();

        using var response = await http.GetAsync(new Uri($"http://allowed.test:{_upstream.Port}/"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(EgressErrorCodes.PortDenied, json.RootElement.GetProperty("error").GetString());
        Assert.Equal(0, _upstream.Connections);
    }

    [Fact]
    public async Task Connect_AllowedHostOnPortNotAllowed_403PortDenied()
    {
        await StartProxyAsync(options => options.AllowedPrivateNetworks.Add($"{_upstream.Address}/32"));
        Register(EgressPolicy.Create(true, ["allowed.test"], []));
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT allowed.test:{_upstream.Port} HTTP/1.1\r\n\r\n"));
        var answer = await ReadToEndAsync(stream);

        Assert.StartsWith("HTTP/1.1 403", answer, StringComparison.Ordinal);
        Assert.Contains(EgressErrorCodes.PortDenied, answer, StringComparison.Ordinal);
        Assert.Equal(0, _upstream.Connections);
    }

    [Fact]
    public async Task Connect_InnerSniNamesDeniedHost_ClosedAndNothingForwarded()
    {
        Register(EgressPolicy.Create(true, [], ["secret.test"]));
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT allowed.test:{_upstream.Port} HTTP/1.1\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 200", await ReadHeadAsync(stream), StringComparison.Ordinal);

        await stream.WriteAsync(TlsClientHelloTests.Record(TlsClientHelloTests.Handshake(TlsClientHelloTests.HelloBody(TlsClientHelloTests.SniExtension("secret.test")))));

        Assert.Equal("", await ReadToEndAsync(stream));
        await WaitForUpstreamClosedAsync();
        AssertUpstreamClosedEmpty();
        Assert.DoesNotContain(_upstream.Heads, h => h.Contains("secret.test", StringComparison.Ordinal));
        Assert.Contains(_objectLog.Messages, m => m.Contains("secret.test", StringComparison.Ordinal) && m.Contains("connect-tls", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Connect_InnerSniNamesAnotherAllowedHost_ClosedAndNothingForwarded()
    {
        Register(EgressPolicy.Create(true, ["allowed.test", "other.test"], []));
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT allowed.test:{_upstream.Port} HTTP/1.1\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 200", await ReadHeadAsync(stream), StringComparison.Ordinal);

        await stream.WriteAsync(TlsClientHelloTests.Record(TlsClientHelloTests.Handshake(TlsClientHelloTests.HelloBody(TlsClientHelloTests.SniExtension("other.test")))));

        Assert.Equal("", await ReadToEndAsync(stream));
        await WaitForUpstreamClosedAsync();
        AssertUpstreamClosedEmpty();
        Assert.DoesNotContain(_upstream.Heads, h => h.Contains("other.test", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Connect_InnerHttpHostNamesDeniedHost_ClosedAndNothingForwarded()
    {
        Register(EgressPolicy.Create(true, [], ["secret.test"]));
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT allowed.test:{_upstream.Port} HTTP/1.1\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 200", await ReadHeadAsync(stream), StringComparison.Ordinal);

        await stream.WriteAsync("GET /x HTTP/1.1\r\nHost: secret.test\r\n\r\n"u8.ToArray());

        Assert.Equal("", await ReadToEndAsync(stream));
        await WaitForUpstreamClosedAsync();
        AssertUpstreamClosedEmpty();
        Assert.DoesNotContain(_upstream.Heads, h => h.Contains("secret.test", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExplicitHttp_PipelinedSecondRequestToDeniedHost_NeverForwarded()
    {
        _upstream.KeepReading = true;
        Register(EgressPolicy.Create(true, [], ["secret.test"]));
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);

        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST http://allowed.test:{_upstream.Port}/a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
            + $"GET http://secret.test:{_upstream.Port}/b HTTP/1.1\r\nHost: secret.test:{_upstream.Port}\r\n\r\n"));
        var answer = await ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        socket.Shutdown(SocketShutdown.Send);

        var received = await _upstream.Received.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Contains("abc", received, StringComparison.Ordinal);
        Assert.DoesNotContain("secret.test", received, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connections_MoreThanTheCapFromOneContainer_ExtraClosedAtOnce()
    {
        await StartProxyAsync(options => options.MaxConnectionsPerContainer = 2);
        var client = Register(EgressPolicy.Create(true, [], []));
        using var first = await ConnectToProxyAsync();
        using var second = await ConnectToProxyAsync();
        await first.SendAsync("GET / HT"u8.ToArray());
        await second.SendAsync("GET / HT"u8.ToArray());
        for (var i = 0; i < 100 && client.Connections < 2; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(2, client.Connections);
        using var third = await ConnectToProxyAsync();
        var read = ReadToEndAsync(new NetworkStream(third));

        // Closed without any clock advance (the head timeout has not passed); the first two stay open.
        Assert.Equal("", await read.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, client.Connections);
    }

    [Fact]
    public async Task Connections_MoreThanTheNodesCap_ExtraClosedAtOnceWhateverTheContainersCap()
    {
        await StartProxyAsync(options =>
        {
            options.MaxConnectionsPerContainer = 100;
            options.MaxConnections = 2;
        });
        Register(EgressPolicy.Create(true, [], []));
        using var first = await ConnectToProxyAsync();
        using var second = await ConnectToProxyAsync();
        await first.SendAsync("GET / HT"u8.ToArray());
        await second.SendAsync("GET / HT"u8.ToArray());
        for (var i = 0; i < 100 && _clients.Connections < 2; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(2, _clients.Connections);
        using var third = await ConnectToProxyAsync();
        var read = ReadToEndAsync(new NetworkStream(third));

        Assert.Equal("", await read.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, _clients.Connections);
    }

    /// <summary>The proxy connected upstream (before answering 200) and closed it without sending a byte.</summary>
    private void AssertUpstreamClosedEmpty()
    {
        Assert.Equal(1, _upstream.Connections);
        Assert.Equal("", Assert.Single(_upstream.Heads));
    }

    private async Task WaitForUpstreamClosedAsync()
    {
        // The upstream's accept loop may not have counted the connection yet (the kernel accepted it; CI saw 0 connections).
        for (var i = 0; i < 100 && (_upstream.Connections == 0 || _upstream.Heads.Count < _upstream.Connections); i++)
        {
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Garbage_400JsonError()
    {
        Register(EgressPolicy.Create(true, [], []));
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);
        await stream.WriteAsync("HELLO THERE\r\n\r\n"u8.ToArray());
        var answer = await ReadToEndAsync(stream);
        Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        Assert.Contains(EgressErrorCodes.BadRequest, answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SilentClient_ClosedAfterHeadTimeout()
    {
        Register(EgressPolicy.Create(true, [], []));
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);
        await stream.WriteAsync("GET / HT"u8.ToArray());
        var read = ReadToEndAsync(stream);
        await Task.Delay(200);
        Assert.False(read.IsCompleted);
        _time.Advance(new EgressOptions().HeadTimeout + TimeSpan.FromSeconds(1));
        Assert.Equal("", await read.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Connect_NoByteEitherWayForIdleTimeout_ClosedBothSidesSlotFreedAndLogged()
    {
        using var holder = new Holder(_upstream.Address);
        var client = await StartIdleProxyAsync(holder, TimeSpan.FromMinutes(1), maxConnectionsPerContainer: 1);
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);
        using var upstream = await OpenTunnelAsync(stream, holder);

        _time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));

        Assert.Equal("", await ReadUntilClosedAsync(stream, "the container's side"));
        Assert.Equal("", await ReadUntilClosedAsync(new NetworkStream(upstream), "the upstream's side"));
        await WaitUntilAsync(() => client.Connections == 0 && _clients.Connections == 0, "the idle connection's slots (container and node) were not given back");
        Assert.Contains(_objectLog.Messages, m => m.Contains("Sandbox/1", StringComparison.Ordinal) && m.Contains($"allowed.test:{holder.Port}", StringComparison.Ordinal) && m.Contains("idle", StringComparison.Ordinal));

        // The cap is 1: a new connection from the same container is served again.
        using var again = await ConnectToProxyAsync();
        var againStream = new NetworkStream(again);
        using var upstreamAgain = await OpenTunnelAsync(againStream, holder);
        Assert.Equal(1, client.Connections);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Connect_BytesOneWayOnly_LivesPastIdleTimeout(bool download)
    {
        using var holder = new Holder(_upstream.Address);
        var idleTimeout = TimeSpan.FromMinutes(1);
        var client = await StartIdleProxyAsync(holder, idleTimeout);
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);
        using var upstream = await OpenTunnelAsync(stream, holder);
        var upstreamStream = new NetworkStream(upstream);
        var (from, to) = download ? (upstreamStream, stream) : (stream, upstreamStream);

        // Four times 0.6 × the idle timeout, one byte one way each time: 2.4 × the idle timeout in all.
        for (var i = 0; i < 4; i++)
        {
            await PassByteAsync(from, to, (byte)('a' + i));
            _time.Advance(idleTimeout * 0.6);
        }

        await PassByteAsync(from, to, (byte)'z');
        Assert.Equal(1, client.Connections);

        // Silent now: closed after one more idle timeout.
        _time.Advance(idleTimeout);
        Assert.Equal("", await ReadUntilClosedAsync(stream, "the container's side"));
        await WaitUntilAsync(() => client.Connections == 0, "the connection that went quiet was not closed");
    }

    [Fact]
    public async Task ExplicitHttp_BodyNeverSent_ClosedBothSidesAfterIdleTimeout()
    {
        using var holder = new Holder(_upstream.Address);
        var client = await StartIdleProxyAsync(holder, TimeSpan.FromSeconds(30));
        using var socket = await ConnectToProxyAsync();
        var stream = new NetworkStream(socket);

        // Declares 10 bytes of body, sends 3, then nothing.
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST http://allowed.test:{holder.Port}/ HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"));
        using var upstream = await holder.AcceptAsync();
        var upstreamStream = new NetworkStream(upstream);
        Assert.StartsWith("POST / HTTP/1.1\r\n", await ReadHeadAsync(upstreamStream), StringComparison.Ordinal);
        Assert.Equal((byte)'a', await ReadByteAsync(upstreamStream));

        _time.Advance(TimeSpan.FromSeconds(31));

        Assert.Equal("", await ReadUntilClosedAsync(stream, "the container's side"));
        Assert.Equal("bc", await ReadUntilClosedAsync(upstreamStream, "the upstream's side"));
        await WaitUntilAsync(() => client.Connections == 0, "the idle HTTP connection's slot was not given back");
        Assert.Contains(_objectLog.Messages, m => m.Contains($"allowed.test:{holder.Port}", StringComparison.Ordinal) && m.Contains("idle", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:01")]
    [InlineData("1.00:00:00.001")]
    public void Options_IdleTimeoutOutOfRange_ErrorNamesFieldAndRange(string value)
    {
        var options = new EgressOptions { IdleTimeout = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture) };
        var error = Assert.Single(options.Validate());
        Assert.Contains("Berth:Egress:IdleTimeout", error, StringComparison.Ordinal);
        Assert.Contains("at most 1 day", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_IdleTimeout_Default5MinutesAnd1DayAllowed()
    {
        Assert.Equal(TimeSpan.FromMinutes(5), new EgressOptions().IdleTimeout);
        Assert.Empty(new EgressOptions { IdleTimeout = TimeSpan.FromDays(1) }.Validate());
    }

    /// <summary>A proxy that may reach <paramref name="holder"/>, with <paramref name="idleTimeout"/>; registers the container, allowed <c>allowed.test</c>.</summary>
    private async Task<EgressClient> StartIdleProxyAsync(Holder holder, TimeSpan idleTimeout, int maxConnectionsPerContainer = EgressOptions.DefaultMaxConnectionsPerContainer)
    {
        await StartProxyAsync(options =>
        {
            options.AllowedPrivateNetworks.Add($"{holder.Address}/32");
            options.AllowedPorts.Add(holder.Port);
            options.MaxConnectionsPerContainer = maxConnectionsPerContainer;
            options.IdleTimeout = idleTimeout;
        });
        return Register(EgressPolicy.Create(true, ["allowed.test"], []));
    }

    /// <summary>
    /// Opens a CONNECT tunnel to the holder through <paramref name="stream"/> and proves it relays both ways (so the
    /// proxy is past its head checks and relaying). Returns the holder's side of the connection.
    /// </summary>
    private static async Task<Socket> OpenTunnelAsync(NetworkStream stream, Holder holder)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT allowed.test:{holder.Port} HTTP/1.1\r\nHost: allowed.test:{holder.Port}\r\n\r\n"));
        var established = await ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 200", established, StringComparison.Ordinal);
        var hello = TlsClientHelloTests.Record(TlsClientHelloTests.Handshake(TlsClientHelloTests.HelloBody(TlsClientHelloTests.SniExtension("allowed.test"))));
        await stream.WriteAsync(hello);
        var upstream = await holder.AcceptAsync();
        var upstreamStream = new NetworkStream(upstream);
        var received = new byte[hello.Length];
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            await upstreamStream.ReadExactlyAsync(received, cts.Token);
        }

        Assert.Equal(hello, received);
        await PassByteAsync(upstreamStream, stream, (byte)'!');
        return upstream;
    }

    /// <summary>Writes one byte to <paramref name="from"/> and reads it from <paramref name="to"/> (the proxy relayed it).</summary>
    private static async Task PassByteAsync(NetworkStream from, NetworkStream to, byte value)
    {
        await from.WriteAsync(new[] { value });
        Assert.Equal(value, await ReadByteAsync(to));
    }

    private static async Task<byte> ReadByteAsync(NetworkStream stream)
    {
        var one = new byte[1];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = await stream.ReadAsync(one, cts.Token);
        Assert.True(read == 1, "the relayed byte did not arrive: the connection was closed");
        return one[0];
    }

    /// <summary>Reads what is left until the peer closes; fails with <paramref name="side"/> named if it stays open 10 s.</summary>
    private static async Task<string> ReadUntilClosedAsync(NetworkStream stream, string side)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var memory = new MemoryStream();
        try
        {
            await stream.CopyToAsync(memory, cts.Token);
        }
        catch (IOException)
        {
            // Reset rather than closed in order: closed all the same.
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{side} of the idle connection was still open 10 s after the idle timeout passed.");
        }

        return Encoding.UTF8.GetString(memory.ToArray());
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition(), failure + " within 10 s.");
    }

    private async Task<Socket> ConnectToProxyAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_proxy.LocalEndPoint!);
        return socket;
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!Encoding.ASCII.GetString(bytes.ToArray()).EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, cts.Token) == 0)
            {
                break;
            }

            bytes.Add(one[0]);
        }

        return Encoding.ASCII.GetString(bytes.ToArray());
    }

    private static async Task<string> ReadToEndAsync(NetworkStream stream, TimeSpan? limit = null)
    {
        using var cts = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(15));
        using var memory = new MemoryStream();
        try
        {
            await stream.CopyToAsync(memory, cts.Token);
        }
        catch (Exception ex) when (ex is IOException || (limit is not null && ex is OperationCanceledException))
        {
        }

        return Encoding.UTF8.GetString(memory.ToArray());
    }

    /// <summary>A non-loopback IPv4 address of this host (the proxy never connects to loopback).</summary>
    internal static IPAddress HostAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .First(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));

    /// <summary>A stand-in upstream: records each request head and answers <c>hello</c>.</summary>
    private sealed class StandIn(IPAddress address) : IDisposable
    {
        private readonly TcpListener _listener = new(address, 0);
        private int _connections;

        public IPAddress Address { get; } = address;

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public ConcurrentQueue<string> Heads { get; } = new();

        /// <summary>When set, after answering the stand-in reads on until the proxy closes and posts all it received here.</summary>
        public bool KeepReading { get; set; }

        public System.Threading.Channels.Channel<string> Received { get; } = System.Threading.Channels.Channel.CreateUnbounded<string>();

        public int Connections => Volatile.Read(ref _connections);

        public void Start()
        {
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (true)
                {
                    TcpClient client;
                    try
                    {
                        client = await _listener.AcceptTcpClientAsync();
                    }
                    catch (Exception)
                    {
                        return;
                    }

                    Interlocked.Increment(ref _connections);
                    _ = Task.Run(async () =>
                    {
                        using var _ = client;
                        var stream = client.GetStream();
                        var head = await ReadHeadAsync(stream);
                        Heads.Enqueue(head);
                        await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"u8.ToArray());
                        if (KeepReading)
                        {
                            // Everything after the head until the proxy closes (or 5 s pass without it).
                            var rest = await ReadToEndAsync(stream, TimeSpan.FromSeconds(5));
                            Received.Writer.TryWrite(head + rest);
                        }
                    });
                }
            });
        }

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>A stand-in upstream that accepts connections and hands them to the test, which reads and writes on them.</summary>
    private sealed class Holder : IDisposable
    {
        private readonly TcpListener _listener;

        public Holder(IPAddress address)
        {
            _listener = new TcpListener(address, 0);
            _listener.Start();
            Address = address;
        }

        public IPAddress Address { get; }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public async Task<Socket> AcceptAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            return await _listener.AcceptSocketAsync(cts.Token);
        }

        public void Dispose() => _listener.Dispose();
    }

    private sealed class CapturingLogger : ILogger
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Enqueue(formatter(state, exception));
    }
}
