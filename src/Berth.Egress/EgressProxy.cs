using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Egress;

/// <summary>Resolves a host name the way the proxy connects to it (the node's resolver by default; tests give a stub).</summary>
/// <param name="host">The host name (lowercase, no port).</param>
/// <param name="cancellationToken">Cancels the lookup.</param>
public delegate Task<IPAddress[]> EgressResolver(string host, CancellationToken cancellationToken);

/// <summary>
/// The node's egress proxy on one address (a filtered network's gateway). One port serves both modes:
/// <list type="bullet">
/// <item>explicit: <c>HTTP_PROXY</c> absolute-form requests and <c>CONNECT host:port</c> tunnels;</item>
/// <item>transparent: the container's outbound TCP 80/443, redirected here by the firewall; the original port comes
/// from <c>SO_ORIGINAL_DST</c>, the host from the Host header or the TLS ClientHello's SNI (TLS is never terminated).</item>
/// </list>
/// Every connection's source address picks its <see cref="EgressClient"/>; its <see cref="EgressPolicy"/> decides.
/// Allowed hosts are resolved by the proxy itself and connected to on the resolved address, never on the address the
/// container chose (no domain fronting through an allowed SNI). Denied HTTP gets a <c>403</c> with a JSON error body;
/// denied TLS and anything unparseable is closed.
/// </summary>
public sealed class EgressProxy : IAsyncDisposable
{
    private const int SolIp = 0;
    private const int SoOriginalDst = 80;

    private readonly EgressClients _clients;
    private readonly EgressResolver _resolver;
    private readonly EgressOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly EgressAddressFilter _addresses;
    private readonly IReadOnlySet<int> _ports;
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task? _accepting;

    /// <summary>Creates a proxy; <see cref="StartAsync"/> starts it.</summary>
    /// <param name="clients">The registered containers.</param>
    /// <param name="resolver">Resolves allowed hosts; <see langword="null"/> means <see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/>.</param>
    /// <param name="options">The proxy's settings.</param>
    /// <param name="time">The clock for timeouts.</param>
    /// <param name="logger">The proxy's own log (unknown clients, failures).</param>
    public EgressProxy(EgressClients clients, EgressResolver? resolver, IOptions<EgressOptions> options, TimeProvider time, ILogger<EgressProxy> logger)
    {
        _clients = clients;
        _resolver = resolver ?? ((host, ct) => Dns.GetHostAddressesAsync(host, ct));
        _options = options.Value;
        _time = time;
        _logger = logger;
        _addresses = new EgressAddressFilter(_options.ParsedPrivateNetworks(), null, time);
        _ports = _options.EffectivePorts();
    }

    /// <summary>The address and port the proxy listens on, once started.</summary>
    public IPEndPoint? LocalEndPoint => _listener?.LocalEndPoint as IPEndPoint;

    /// <summary>Listens on <paramref name="endPoint"/> and serves connections until disposed.</summary>
    /// <param name="endPoint">The address (a bridge's gateway address) and port.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <exception cref="SocketException">The address cannot be bound (not on this host, or the port is taken).</exception>
    public Task StartAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_listener is not null)
        {
            throw new InvalidOperationException("The egress proxy is already started.");
        }

        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(endPoint);
        listener.Listen(512);
        _listener = listener;
        Log.Listening(_logger, listener.LocalEndPoint?.ToString() ?? endPoint.ToString());
        _accepting = AcceptLoopAsync(listener, _stopping.Token);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener?.Dispose();
        if (_accepting is not null)
        {
            try
            {
                await _accepting;
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException && cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                Log.ConnectionFailed(_logger, ex.Message);
                continue;
            }

            _ = Task.Run(() => ServeAsync(client, cancellationToken), CancellationToken.None);
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken cancellationToken)
    {
        using var _ = socket;
        try
        {
            socket.NoDelay = true;
            var source = ((IPEndPoint)socket.RemoteEndPoint!).Address;
            if (!_clients.TryGet(source, out var client))
            {
                Log.UnknownClient(_logger, source.ToString());
                return;
            }

            if (!client.TryEnterConnection(_options.MaxConnectionsPerContainer))
            {
                Log.Refused(client.Logger, client.Name, $"more than {_options.MaxConnectionsPerContainer} connections at once (Berth:Egress:MaxConnectionsPerContainer)");
                return;
            }

            try
            {
                if (!_clients.TryEnterConnection(_options.MaxConnections))
                {
                    Log.Refused(client.Logger, client.Name, $"the node holds {_options.MaxConnections} egress connections already (Berth:Egress:MaxConnections)");
                    return;
                }

                try
                {
                    await ServeClientAsync(socket, client, cancellationToken);
                }
                finally
                {
                    _clients.LeaveConnection();
                }
            }
            finally
            {
                client.LeaveConnection();
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client or upstream went away, or the node stops: nothing to answer to.
        }
        catch (Exception ex)
        {
            Log.ConnectionFailed(_logger, ex.Message);
        }
    }

    private async Task ServeClientAsync(Socket socket, EgressClient client, CancellationToken cancellationToken)
    {
        var stream = new NetworkStream(socket, ownsSocket: false);
        await using var _ = stream;
        var original = OriginalDestination(socket);
        var buffer = new byte[TlsClientHello.MaxHelloBytes + 4096];
        var filled = 0;

        using var headTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // TimeProvider-driven timeout for the head: a client that trickles bytes is cut off.
        using var timer = _time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), headTimeout, _options.HeadTimeout, Timeout.InfiniteTimeSpan);

        while (true)
        {
            if (filled == buffer.Length)
            {
                Log.Refused(client.Logger, client.Name, "request head or ClientHello too large");
                return;
            }

            int read;
            try
            {
                read = await stream.ReadAsync(buffer.AsMemory(filled), headTimeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Log.Refused(client.Logger, client.Name, "no request head within the head timeout");
                return;
            }

            if (read == 0)
            {
                return;
            }

            filled += read;
            var data = buffer.AsSpan(0, filled);
            if (TlsClientHello.LooksLikeTls(data[0]))
            {
                var status = TlsClientHello.TryReadServerName(data, out var serverName);
                if (status == TlsParseStatus.NeedMore)
                {
                    continue;
                }

                if (status != TlsParseStatus.Found)
                {
                    Log.Denied(client.Logger, client.Name, "(none)", original?.Port ?? 0, "tls", status == TlsParseStatus.NoServerName ? "no SNI" : "invalid ClientHello");
                    return;
                }

                var port = original is { } dst && !IsSelf(dst, socket) ? dst.Port : 443;
                await TunnelAsync(stream, client, serverName!, port, "tls", buffer.AsMemory(0, filled), null, cancellationToken);
                return;
            }

            var http = HttpRequestHead.TryParse(data, out var head);
            if (http == HttpParseStatus.NeedMore)
            {
                continue;
            }

            if (http == HttpParseStatus.Invalid)
            {
                Log.Refused(client.Logger, client.Name, "not a valid HTTP/1.x request or TLS ClientHello");
                await WriteErrorAsync(stream, 400, EgressErrorCodes.BadRequest, "The egress proxy reads HTTP/1.x requests (absolute-form, origin-form with one Host header, CONNECT) and TLS with SNI.", null, null, cancellationToken);
                return;
            }

            var body = buffer.AsMemory(head!.Length, filled - head.Length);
            if (head.Form == HttpTargetForm.Authority)
            {
                await TunnelAsync(stream, client, head.Host, head.Port, "connect", body, "HTTP/1.1 200 Connection Established\r\n\r\n"u8.ToArray(), cancellationToken);
            }
            else
            {
                // Transparent origin-form without a port in Host: the port the container dialled.
                var port = head.Form == HttpTargetForm.Origin && head.Header("Host") is { } h && !h.TrimEnd().EndsWith(']') && !h.Contains(':', StringComparison.Ordinal)
                    && original is { } dst && !IsSelf(dst, socket) ? dst.Port : head.Port;
                await ForwardHttpAsync(stream, client, head, port, body, cancellationToken);
            }

            return;
        }
    }

    private async Task ForwardHttpAsync(NetworkStream stream, EgressClient client, HttpRequestHead head, int port, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (client.Outbound is { } outbound && outbound.Route(head.Host) != OutboundRoute.None)
        {
            // Answered by the object's outbound handler, before (and whatever) the policy (OutboundDispatch.cs).
            await OutboundDispatch.ServeAsync(stream, client, outbound, head, port, body, _time, cancellationToken);
            return;
        }

        var decision = client.Policy.Decide(head.Host);
        if (!decision.Allowed)
        {
            Log.Denied(client.Logger, client.Name, head.Host, port, "http", decision.Rule);
            await WriteErrorAsync(stream, 403, EgressErrorCodes.Denied, $"Outbound requests to '{head.Host}' are not allowed for this container class ({decision.Rule}).", head.Host, decision.Rule, cancellationToken);
            return;
        }

        if (!_ports.Contains(port))
        {
            var rule = PortRule(port);
            Log.Denied(client.Logger, client.Name, head.Host, port, "http", rule);
            await WriteErrorAsync(stream, 403, EgressErrorCodes.PortDenied, $"Outbound requests to port {port} are not allowed ({rule}).", head.Host, rule, cancellationToken);
            return;
        }

        var framing = HttpBodyFraming.For(head);
        if (framing is null)
        {
            Log.Refused(client.Logger, client.Name, "ambiguous request body framing (Transfer-Encoding other than chunked, or with Content-Length, or conflicting Content-Length)");
            await WriteErrorAsync(stream, 400, EgressErrorCodes.BadRequest, "The request's body framing is ambiguous: use one Content-Length or Transfer-Encoding: chunked alone.", head.Host, null, cancellationToken);
            return;
        }

        Log.Allowed(client.Logger, client.Name, head.Host, port, "http", decision.Rule);
        var (upstream, refusal) = await ConnectAsync(client, head.Host, port, cancellationToken);
        using var _ = upstream;
        if (upstream is null)
        {
            await WriteUnreachableAsync(stream, head.Host, port, refusal, cancellationToken);
            return;
        }

        var upstreamStream = new NetworkStream(upstream, ownsSocket: false);
        await using var __ = upstreamStream;
        await RelayAsync(client, head.Host, port, "http", async idle =>
        {
            await upstreamStream.WriteAsync(head.ToUpstreamHead(), idle.Token);
            client.AddOut(head.Length);
            await ForwardOneRequestAsync(stream, upstreamStream, client, framing, body, idle);
        }, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="relay"/> (everything after the upstream is connected) under an <see cref="IdleWatch"/> of
    /// <see cref="EgressOptions.IdleTimeout"/>: when no byte moved either way for that long its token is cancelled,
    /// the relay ends, the callers dispose both sockets and <see cref="ServeAsync"/> gives the slots back.
    /// </summary>
    private async Task RelayAsync(EgressClient client, string host, int port, string kind, Func<IdleWatch, Task> relay, CancellationToken cancellationToken)
    {
        using var idle = new IdleWatch(_time, _options.IdleTimeout, cancellationToken);
        try
        {
            await relay(idle);
        }
        catch (OperationCanceledException) when (idle.IsIdle)
        {
            // Closed idle: logged below, the sockets are closed by the callers.
        }
        finally
        {
            if (idle.IsIdle)
            {
                Log.ClosedIdle(client.Logger, client.Name, host, port, kind, _options.IdleTimeout);
            }
        }
    }

    /// <summary>
    /// Passes one request's body upstream and the answer back. What the client sends after the body (a pipelined or
    /// keep-alive second request, which could name another host) is read and dropped, never forwarded: one request per
    /// connection; the upstream was asked to close after its answer.
    /// </summary>
    private static async Task ForwardOneRequestAsync(NetworkStream stream, NetworkStream upstream, EgressClient client, HttpBodyFraming framing, ReadOnlyMemory<byte> pending, IdleWatch idle)
    {
        var taken = framing.Consume(pending.Span);
        if (taken < 0)
        {
            return;
        }

        if (taken > 0)
        {
            await upstream.WriteAsync(pending[..taken], idle.Token);
            client.AddOut(taken);
            idle.Touch();
        }

        var outbound = CopyRequestBodyAsync(stream, upstream, client, framing, idle);
        var inbound = CopyAsync(upstream, stream, client.AddIn, idle);
        await Task.WhenAll(outbound, inbound);
    }

    private static async Task CopyRequestBodyAsync(NetworkStream from, NetworkStream to, EgressClient client, HttpBodyFraming framing, IdleWatch idle)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (!framing.IsComplete)
            {
                var read = await from.ReadAsync(buffer, idle.Token);
                idle.Touch();
                if (read == 0)
                {
                    to.Socket.Shutdown(SocketShutdown.Send);
                    return;
                }

                var taken = framing.Consume(buffer.AsSpan(0, read));
                if (taken < 0)
                {
                    from.Socket.Close();
                    to.Socket.Close();
                    return;
                }

                client.AddOut(taken);
                await to.WriteAsync(buffer.AsMemory(0, taken), idle.Token);
                idle.Touch();
            }

            // Drain: read what follows the request and drop it, so closing later does not reset the answer away. Dropped
            // bytes move nothing: they do not restart the idle clock (a container trickling a byte now and then would
            // otherwise hold its connection and slots for ever once its request was done).
            while (await from.ReadAsync(buffer, idle.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            from.Socket.Close();
            to.Socket.Close();
        }
    }

    private static string PortRule(int port) => $"port {port} not in Berth:Egress:AllowedPorts";

    private static Task WriteUnreachableAsync(NetworkStream stream, string host, int port, string? refusal, CancellationToken cancellationToken) =>
        refusal is not null
            ? WriteErrorAsync(stream, 403, EgressErrorCodes.AddressDenied, $"'{host}' resolves to an address the egress proxy never connects to ({refusal}).", host, refusal, cancellationToken)
            : WriteErrorAsync(stream, 502, EgressErrorCodes.UpstreamUnreachable, $"'{host}:{port}' could not be resolved or connected to.", host, null, cancellationToken);

    private async Task TunnelAsync(NetworkStream stream, EgressClient client, string host, int port, string kind, ReadOnlyMemory<byte> pending, byte[]? established, CancellationToken cancellationToken)
    {
        if (client.Outbound is { } outbound && outbound.Route(host) == OutboundRoute.ByHost)
        {
            // A handler's host is answered over plain HTTP only: refused, never sent out (OutboundDispatch.cs).
            await OutboundDispatch.RefuseTlsAsync(stream, client, host, port, kind, established is not null, cancellationToken);
            return;
        }

        var decision = client.Policy.Decide(host);
        if (!decision.Allowed)
        {
            Log.Denied(client.Logger, client.Name, host, port, kind, decision.Rule);
            if (established is not null)
            {
                await WriteErrorAsync(stream, 403, EgressErrorCodes.Denied, $"Outbound connections to '{host}' are not allowed for this container class ({decision.Rule}).", host, decision.Rule, cancellationToken);
            }

            return;
        }

        if (!_ports.Contains(port))
        {
            var rule = PortRule(port);
            Log.Denied(client.Logger, client.Name, host, port, kind, rule);
            if (established is not null)
            {
                await WriteErrorAsync(stream, 403, EgressErrorCodes.PortDenied, $"Outbound connections to port {port} are not allowed ({rule}).", host, rule, cancellationToken);
            }

            return;
        }

        Log.Allowed(client.Logger, client.Name, host, port, kind, decision.Rule);
        var (upstream, refusal) = await ConnectAsync(client, host, port, cancellationToken);
        using var _ = upstream;
        if (upstream is null)
        {
            if (established is not null)
            {
                await WriteUnreachableAsync(stream, host, port, refusal, cancellationToken);
            }

            return;
        }

        var upstreamStream = new NetworkStream(upstream, ownsSocket: false);
        await using var __ = upstreamStream;
        await RelayAsync(client, host, port, kind, idle => RelayTunnelAsync(stream, upstreamStream, client, host, port, pending, established, idle), cancellationToken);
    }

    private async Task RelayTunnelAsync(NetworkStream stream, NetworkStream upstreamStream, EgressClient client, string host, int port, ReadOnlyMemory<byte> pending, byte[]? established, IdleWatch idle)
    {
        if (established is not null)
        {
            await stream.WriteAsync(established, idle.Token);

            // What goes through the tunnel is checked too: its TLS SNI or HTTP Host must name the CONNECT host.
            var inner = await ReadTunnelHeadAsync(stream, client, host, port, pending, idle);
            if (inner is null)
            {
                return;
            }

            pending = inner.Value.Pending;
            if (inner.Value.Head is { } innerHead)
            {
                var framing = HttpBodyFraming.For(innerHead);
                if (framing is null)
                {
                    Log.Refused(client.Logger, client.Name, "ambiguous request body framing inside a CONNECT tunnel");
                    return;
                }

                await upstreamStream.WriteAsync(innerHead.ToUpstreamHead(), idle.Token);
                client.AddOut(innerHead.Length);
                await ForwardOneRequestAsync(stream, upstreamStream, client, framing, pending[innerHead.Length..], idle);
                return;
            }
        }

        if (!pending.IsEmpty)
        {
            await upstreamStream.WriteAsync(pending, idle.Token);
            client.AddOut(pending.Length);
            idle.Touch();
        }

        await SpliceAsync(stream, upstreamStream, client, idle);
    }

    /// <summary>
    /// Reads the first bytes a client sends into a CONNECT tunnel (bounded, within the head timeout). TLS: its SNI must
    /// name <paramref name="host"/> and pass the policy. HTTP: its Host must name <paramref name="host"/> (the head is
    /// returned, so the request is forwarded as one request). Anything else passes only to a port other than 80 and 443.
    /// The upstream is connected already, so <paramref name="idle"/> bounds this too.
    /// </summary>
    /// <returns>The bytes read and the HTTP head if any, or <see langword="null"/> when the tunnel is refused (then closed).</returns>
    private async Task<(ReadOnlyMemory<byte> Pending, HttpRequestHead? Head)?> ReadTunnelHeadAsync(NetworkStream stream, EgressClient client, string host, int port, ReadOnlyMemory<byte> pending, IdleWatch idle)
    {
        var cancellationToken = idle.Token;
        var buffer = new byte[TlsClientHello.MaxHelloBytes + 4096];
        if (pending.Length > buffer.Length)
        {
            Log.Refused(client.Logger, client.Name, "CONNECT tunnel's first bytes too large");
            return null;
        }

        pending.CopyTo(buffer);
        var filled = pending.Length;
        using var headTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var timer = _time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), headTimeout, _options.HeadTimeout, Timeout.InfiniteTimeSpan);
        while (true)
        {
            if (filled > 0)
            {
                var data = buffer.AsSpan(0, filled);
                if (TlsClientHello.LooksLikeTls(data[0]))
                {
                    var status = TlsClientHello.TryReadServerName(data, out var serverName);
                    if (status == TlsParseStatus.Found)
                    {
                        var sni = serverName!.TrimEnd('.').ToLowerInvariant();
                        var decision = client.Policy.Decide(sni);
                        if (!string.Equals(sni, host, StringComparison.Ordinal) || !decision.Allowed)
                        {
                            Log.Denied(client.Logger, client.Name, sni, port, "connect-tls", decision.Allowed ? $"SNI does not name the CONNECT host '{host}'" : decision.Rule);
                            return null;
                        }

                        return (buffer.AsMemory(0, filled), null);
                    }

                    if (status != TlsParseStatus.NeedMore)
                    {
                        Log.Denied(client.Logger, client.Name, host, port, "connect-tls", status == TlsParseStatus.NoServerName ? "no SNI" : "invalid ClientHello");
                        return null;
                    }
                }
                else
                {
                    var http = HttpRequestHead.TryParse(data, out var head);
                    if (http == HttpParseStatus.Complete)
                    {
                        var decision = client.Policy.Decide(head!.Host);
                        if (head.Form == HttpTargetForm.Authority || !string.Equals(head.Host, host, StringComparison.Ordinal) || !decision.Allowed)
                        {
                            Log.Denied(client.Logger, client.Name, head.Host, port, "connect-http", decision.Allowed ? $"Host does not name the CONNECT host '{host}'" : decision.Rule);
                            return null;
                        }

                        return (buffer.AsMemory(0, filled), head);
                    }

                    if (http == HttpParseStatus.Invalid)
                    {
                        if (port is 80 or 443)
                        {
                            Log.Denied(client.Logger, client.Name, host, port, "connect", "neither TLS with SNI nor HTTP inside a tunnel to port 80/443");
                            return null;
                        }

                        return (buffer.AsMemory(0, filled), null);
                    }
                }
            }

            if (filled == buffer.Length)
            {
                Log.Refused(client.Logger, client.Name, "CONNECT tunnel's first bytes too large");
                return null;
            }

            int read;
            try
            {
                read = await stream.ReadAsync(buffer.AsMemory(filled), headTimeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Log.Refused(client.Logger, client.Name, "nothing checkable inside the CONNECT tunnel within the head timeout");
                return null;
            }

            if (read == 0)
            {
                return null;
            }

            idle.Touch();
            filled += read;
        }
    }

    private async Task<(Socket? Socket, string? Refusal)> ConnectAsync(EgressClient client, string host, int port, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var timer = _time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), timeout, _options.ConnectTimeout, Timeout.InfiniteTimeSpan);
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await _resolver(host, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Log.Refused(client.Logger, client.Name, $"'{host}' did not resolve: {ex.Message}");
            return (null, null);
        }

        // Every address the name resolves to is vetted before any is tried: a name that resolves to a private or host
        // address at all is refused (no DNS-rebinding mix), and the socket connects to the vetted address, never
        // to a name resolved again.
        foreach (var address in addresses)
        {
            if (!_addresses.IsAllowed(address, out var reason))
            {
                Log.Refused(client.Logger, client.Name, $"'{host}' resolves to {address} ({reason}), which the proxy never connects to");
                return (null, reason);
            }
        }

        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), timeout.Token);
                return (socket, null);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                Log.Refused(client.Logger, client.Name, $"'{host}' ({address}:{port}) did not accept the connection: {ex.Message}");
            }
        }

        return (null, null);
    }

    private static async Task SpliceAsync(NetworkStream client, NetworkStream upstream, EgressClient counters, IdleWatch idle)
    {
        var outbound = CopyAsync(client, upstream, counters.AddOut, idle);
        var inbound = CopyAsync(upstream, client, counters.AddIn, idle);
        await Task.WhenAll(outbound, inbound);
    }

    /// <summary>Copies until <paramref name="from"/> ends; every read and write restarts <paramref name="idle"/>'s clock (either direction keeps the connection alive).</summary>
    private static async Task CopyAsync(NetworkStream from, NetworkStream to, Action<long> count, IdleWatch idle)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, idle.Token);
                if (read == 0)
                {
                    break;
                }

                // Counted (and the clock restarted) before it is passed on: a client that has its answer sees both.
                count(read);
                idle.Touch();
                await to.WriteAsync(buffer.AsMemory(0, read), idle.Token);
                idle.Touch();
            }

            to.Socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // One side went away: end both directions.
            from.Socket.Close();
            to.Socket.Close();
        }
    }

    private static async Task WriteErrorAsync(NetworkStream stream, int status, string code, string message, string? host, string? rule, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new EgressError(code, message, host, rule), EgressErrorJson.Default.EgressError);
        var reason = status switch { 400 => "Bad Request", 403 => "Forbidden", _ => "Bad Gateway" };
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\nX-Berth-Error: {code}\r\n\r\n");
        await stream.WriteAsync(head, cancellationToken);
        await stream.WriteAsync(body, cancellationToken);
    }

    /// <summary>The destination the container dialled before the firewall redirected it here, or <see langword="null"/>.</summary>
    private static IPEndPoint? OriginalDestination(Socket socket)
    {
        if (!OperatingSystem.IsLinux() || socket.AddressFamily != AddressFamily.InterNetwork)
        {
            return null;
        }

        try
        {
            var value = new byte[16];
            var length = socket.GetRawSocketOption(SolIp, SoOriginalDst, value);
            if (length < 8)
            {
                return null;
            }

            // struct sockaddr_in: family (2, host order), port (2, network order), address (4).
            var port = BinaryPrimitives.ReadUInt16BigEndian(value.AsSpan(2));
            return new IPEndPoint(new IPAddress(value.AsSpan(4, 4)), port);
        }
        catch (SocketException)
        {
            // Not redirected (an explicit proxy connection): the option is absent.
            return null;
        }
    }

    private static bool IsSelf(IPEndPoint destination, Socket socket) =>
        socket.LocalEndPoint is IPEndPoint local && local.Port == destination.Port && local.Address.Equals(destination.Address);
}
