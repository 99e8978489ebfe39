using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Berth.Containers;
using Berth.Gateway.Http1;

namespace Berth.Gateway;

/// <summary>
/// Sends requests that carry a body to a container over HTTP/1.1 with full duplex: the response head and body are
/// handed back while the request body is still being sent, and every chunk of the request body is written to the
/// container as soon as it is read from the client. .NET's <c>SocketsHttpHandler</c> cannot do either on HTTP/1.1: it
/// waits until the whole request body is sent before it returns the response (so a container that echoes while it
/// reads stalls once the socket buffers fill) and it buffers small chunked writes. Requests without a body (the warm
/// path: GETs, WebSocket upgrades) still go through the pooled <paramref name="pooled"/> invoker.
/// A body request uses its own connection (<c>Connection: close</c>); a container on the local bridge connects in
/// well under a millisecond. <see cref="CreateTlsHop"/> makes one that sends everything through a TLS pool (a cluster's
/// HTTPS hop), with the same bounds on an upgrade's answer.
/// </summary>
internal sealed class DuplexHttp1Handler(HttpMessageInvoker pooled, TimeSpan upgradeAnswerTimeout = default, TimeProvider? timeProvider = null, bool duplex = true) : HttpMessageHandler
{
    /// <summary>
    /// The upgrade request's wait for its answer (the gateway's
    /// <see cref="GatewayOptions.RequestActivityTimeout"/>; <see cref="TimeSpan.Zero"/>: none of its own). YARP bounds an
    /// upgrade by <see cref="GatewayOptions.UpgradedActivityTimeout"/> (24 h) from the start, which is for the upgraded
    /// connection's idle time: without this a container that never answers an <c>Upgrade</c> request held the client's
    /// connection and the container's lease for a day. An answer other than <c>101</c> is a plain response, and each read of
    /// its body gets this bound too (<see cref="BoundRefusedUpgradeAsync"/>).
    /// </summary>
    private readonly TimeSpan _upgradeAnswerTimeout = upgradeAnswerTimeout;

    private readonly TimeProvider _timeProvider = timeProvider ?? TimeProvider.System;

    // The trailers: as much as a head (Http1ResponseHead), so a container cannot grow the gateway's memory with endless ones.
    private const int MaxHeadBytes = Http1ResponseHead.MaxHeadBytes;

    private static readonly ReadOnlyMemory<byte> LastChunk = "0\r\n\r\n"u8.ToArray();

    // Set around a pooled send; the connection streams mark it when they write a byte of it.
    private static readonly AsyncLocal<StrongBox<bool>?> Written = new();

    /// <summary>
    /// The pooled handler for requests without a body, with the settings of the object's container client. Its
    /// connections note when a request's bytes were written: <c>SocketsHttpHandler</c> silently re-sends a request whose
    /// reused connection failed before any answer (a container that crashed while handling it) on a new connection,
    /// and a "connection refused" from that second try must not pass for "nothing was sent".
    /// </summary>
    public static HttpMessageInvoker CreatePooledInvoker() => CreatePooledInvoker(new GatewayOptions());

    /// <summary>As <see cref="CreatePooledInvoker()"/>, with the pool's size and idle timeout from <paramref name="options"/>.</summary>
    public static HttpMessageInvoker CreatePooledInvoker(GatewayOptions options)
    {
        var handler = ContainerHttpClient.CreateHandler();
        handler.ConnectCallback = ConnectNotingWritesAsync;
        handler.PooledConnectionIdleTimeout = options.PooledConnectionIdleTimeout;
        handler.MaxConnectionsPerServer = options.MaxConnectionsPerContainer ?? int.MaxValue;
        return new(handler);
    }

    /// <summary>
    /// The handler of the hop to another node's <c>https://</c> gateway (<c>Berth:Cluster:Tls</c>): .NET's handler with
    /// <paramref name="tls"/> for every request, bodies included (the full-duplex path speaks only plain TCP), and, as on
    /// the plain hop, an upgrade's answer and a refused upgrade's body bounded by <paramref name="upgradeAnswerTimeout"/>
    /// rather than the upgraded connection's idle time.
    /// </summary>
    /// <param name="tls">The hop's TLS client options (its certificate, the cluster's CA); <see langword="null"/>: .NET's defaults.</param>
    /// <param name="upgradeAnswerTimeout">The gateway's <see cref="GatewayOptions.RequestActivityTimeout"/>.</param>
    /// <param name="timeProvider">The clock of those bounds.</param>
    public static DuplexHttp1Handler CreateTlsHop(System.Net.Security.SslClientAuthenticationOptions? tls, TimeSpan upgradeAnswerTimeout, TimeProvider timeProvider) =>
        new(new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ActivityHeadersPropagator = null,
            SslOptions = tls ?? new(),
        }), upgradeAnswerTimeout, timeProvider, duplex: false);

    private static async ValueTask<Stream> ConnectNotingWritesAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new WriteNotingStream(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        !duplex || request.Content is null || request.Version.Major >= 2 && request.VersionPolicy == HttpVersionPolicy.RequestVersionExact
            ? SendPooledAsync(request, cancellationToken)
            : SendDuplexAsync(request, cancellationToken);

    private async Task<HttpResponseMessage> SendPooledAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var written = new StrongBox<bool>();
        Written.Value = written;
        // Only until the answer's head: SocketsHttpHandler lets go of the token once it has read it.
        using var answer = _upgradeAnswerTimeout > TimeSpan.Zero && request.Headers.NonValidated.Contains("Upgrade")
            ? new CancellationTokenSource(_upgradeAnswerTimeout, _timeProvider)
            : null;
        using var linked = answer is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, answer.Token);
        try
        {
            var response = await pooled.SendAsync(request, linked?.Token ?? cancellationToken);
            return answer is null || response.StatusCode == HttpStatusCode.SwitchingProtocols
                ? response
                : await BoundRefusedUpgradeAsync(response, cancellationToken);
        }
        catch (OperationCanceledException ex) when (answer is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
        {
            throw new HttpRequestException(HttpRequestError.Unknown,
                $"The container did not answer the upgrade request within {_upgradeAnswerTimeout.TotalSeconds:0.###} s (RequestActivityTimeout).",
                new TimeoutException(ex.Message, ex));
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConnectionError && written.Value)
        {
            throw new HttpRequestException(HttpRequestError.Unknown,
                "The container failed the request after it was sent to it (a new connection was then refused).", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The connect timed out (a removed container's address). Nothing was sent, unless this was the handler's silent
            // second try after the container failed the request on a reused connection: then it is the container's failure.
            throw written.Value
                ? new HttpRequestException(HttpRequestError.Unknown, "The container failed the request after it was sent to it (its address then stopped answering).", ex)
                : new HttpRequestException(HttpRequestError.ConnectionError, "The container's address did not accept a connection in time.", ex);
        }
        finally
        {
            Written.Value = null;
        }
    }

    /// <summary>
    /// Gives an upgrade the container refused (any answer but <c>101</c>) the idle bound of a plain request: YARP copies
    /// its body under the config chosen for the upgrade, <see cref="GatewayOptions.UpgradedActivityTimeout"/> (24 h), so a
    /// container that refused slowly held the client's connection and its own lease for a day. Each read of the body waits
    /// at most <see cref="_upgradeAnswerTimeout"/>; then the body fails as a plain request's stalled body does (the client's
    /// response is aborted, the container's connection closed).
    /// </summary>
    private async Task<HttpResponseMessage> BoundRefusedUpgradeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var original = response.Content;
        var body = new IdleBoundStream(await original.ReadAsStreamAsync(cancellationToken), _upgradeAnswerTimeout, _timeProvider);
        var bounded = new StreamContent(body);
        foreach (var header in original.Headers.NonValidated)
        {
            bounded.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        response.Content = bounded;
        return response;
    }

    /// <summary>A response body each of whose reads fails with an <see cref="IOException"/> after <paramref name="idle"/> without a byte.</summary>
    private sealed class IdleBoundStream(Stream inner, TimeSpan idle, TimeProvider timeProvider) : ReadOnlyStream
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            using var timeout = new CancellationTokenSource(idle, timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                return await inner.ReadAsync(buffer, linked.Token);
            }
            catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture,
                    $"The container sent nothing for {idle.TotalSeconds:0.###} s (Berth:Gateway:RequestActivityTimeout) of its answer to an upgrade it refused."),
                    new TimeoutException(ex.Message, ex));
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>A connection that marks the request being sent through it as written.</summary>
    private sealed class WriteNotingStream(Socket socket) : NetworkStream(socket, ownsSocket: true)
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Note();
            return base.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Note();
            return base.WriteAsync(buffer, offset, count, cancellationToken);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Note();
            base.Write(buffer);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Note();
            base.Write(buffer, offset, count);
        }

        private static void Note()
        {
            if (Written.Value is { } written)
            {
                written.Value = true;
            }
        }
    }

    private static async Task<HttpResponseMessage> SendDuplexAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no address.");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(uri.IdnHost, uri.Port, cancellationToken);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            // Nothing of the request was sent: the forwarder may send it again to a fresh container.
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"Could not connect to {uri.Authority}: {ex.Message}", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var network = new NetworkStream(socket, ownsSocket: true);
        var body = new BodySend(network);
        try
        {
            var content = request.Content!;
            var chunked = content.Headers.ContentLength is null;
            await network.WriteAsync(BuildHead(request, uri, chunked), cancellationToken);

            // The body goes out while the response is read: neither waits for the other.
            _ = SendBodyAsync(content, body, chunked, cancellationToken);

            var source = new BufferedSource(network);
            var response = await ReadResponseHeadAsync(source, request, cancellationToken);
            return response;
        }
        catch (Exception ex) when (body.Aborted is { } failure && ex is not OperationCanceledException)
        {
            await network.DisposeAsync();
            // YARP's content recorded the client's failure before it threw; it answers RequestBodyClient from that.
            throw new HttpRequestException(HttpRequestError.Unknown, "The request body failed, so the connection to the container was aborted.", failure);
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            await network.DisposeAsync();
            throw new HttpRequestException(HttpRequestError.Unknown, $"The container at {uri.Authority} closed the connection: {ex.Message}", ex);
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    private static async Task SendBodyAsync(HttpContent content, BodySend body, bool chunked, CancellationToken cancellationToken)
    {
        try
        {
            if (chunked)
            {
                await content.CopyToAsync(new ChunkedWriteStream(body), cancellationToken);
                await body.WriteAsync(LastChunk, cancellationToken);
            }
            else
            {
                await content.CopyToAsync(new UnflushedWriteStream(body), cancellationToken);
            }
        }
        catch (Exception) when (body.WriteFailed)
        {
            // The container stopped reading (it closed, or answered early and closed): what it sent is still read. YARP's
            // content records the failure itself; nothing to add, but never leave the exception unobserved.
        }
        catch (Exception ex)
        {
            // The client's body failed (malformed chunks, cut off, over the limit) or the exchange was cancelled: the request
            // must not look whole to the container, and nothing more will come for the response read to wait on.
            body.Abort(ex);
        }
    }

    /// <summary>The connection as the request body writes to it: notes a failed write, and aborts it when the body itself fails.</summary>
    private sealed class BodySend(NetworkStream network)
    {
        private Exception? _aborted;

        public bool WriteFailed { get; private set; }

        /// <summary>Why the connection was aborted; <see langword="null"/> while it was not.</summary>
        public Exception? Aborted => Volatile.Read(ref _aborted);

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
        {
            try
            {
                await network.WriteAsync(buffer, cancellationToken);
            }
            catch
            {
                WriteFailed = true;
                throw;
            }
        }

        public void Abort(Exception reason)
        {
            Volatile.Write(ref _aborted, reason);
            // A reset, not a FIN: the container sees the request cut rather than a body that merely ended, and the
            // response read under way fails at once.
            try
            {
                network.Socket.LingerState = new LingerOption(true, 0);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already closed: the reset is moot.
            }

            network.Dispose();
        }
    }

    private static byte[] BuildHead(HttpRequestMessage request, Uri uri, bool chunked)
    {
        var head = new StringBuilder(512);
        head.Append(request.Method.Method).Append(' ').Append(uri.PathAndQuery).Append(" HTTP/1.1\r\n");
        head.Append("Host: ").Append(request.Headers.Host ?? uri.Authority).Append("\r\n");
        AppendHeaders(head, request.Headers.NonValidated, chunked);
        AppendHeaders(head, request.Content!.Headers.NonValidated, chunked);
        if (chunked)
        {
            head.Append("Transfer-Encoding: chunked\r\n");
        }

        head.Append("Connection: close\r\n\r\n");
        // UTF-8, as Berth's HTTP/1.1 forwarder writes them: Kestrel decoded the client's non-ASCII header bytes as UTF-8, so
        // these are the client's own bytes (Latin-1 turned "é" into one byte and "€" into '?'); the rest is ASCII either way.
        return Encoding.UTF8.GetBytes(head.ToString());
    }

    private static void AppendHeaders(StringBuilder head, System.Net.Http.Headers.HttpHeadersNonValidated headers, bool chunked)
    {
        foreach (var header in headers)
        {
            var name = header.Key;
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Expect", StringComparison.OrdinalIgnoreCase)
                || (chunked && name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            foreach (var value in header.Value)
            {
                if (value.AsSpan().IndexOfAny('\r', '\n') >= 0 || name.AsSpan().IndexOfAny(":\r\n ") >= 0)
                {
                    throw new HttpRequestException(HttpRequestError.InvalidResponse, $"Header '{name}' holds a line break; not forwarded.");
                }

                head.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }
    }

    /// <summary>
    /// Reads the container's answer head (interim answers skipped) and checks it by the rules Berth's HTTP/1.1 forwarder
    /// holds it to (<see cref="Http1ResponseHead"/>): a head that breaks one throws an <see cref="HttpRequestException"/> of
    /// <see cref="HttpRequestError.InvalidResponse"/> around the <see cref="InvalidDataException"/>, which
    /// <see cref="ContainerForwarder"/> answers <c>502 upstream_responseheaders</c> (<see cref="IsInvalidHead"/>).
    /// </summary>
    private static async Task<HttpResponseMessage> ReadResponseHeadAsync(BufferedSource source, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var total = 0;
        for (var interim = 0; ; )
        {
            try
            {
                var (head, connectionLine) = await source.ReadHeadAsync(Http1ResponseHead.MaxHeadBytes - total, cancellationToken);
                total += head.Length;
                if (ParseHead(source, head, request, connectionLine) is { } response)
                {
                    return response;
                }

                if (++interim > Http1ResponseHead.MaxInterimResponses)
                {
                    throw new InvalidDataException($"The container sent more than {Http1ResponseHead.MaxInterimResponses} interim (1xx) answers.");
                }
            }
            catch (InvalidDataException ex)
            {
                throw new HttpRequestException(HttpRequestError.InvalidResponse, ex.Message, ex);
            }
        }
    }

    /// <summary>The response of a complete head, its body read from <paramref name="source"/>; <see langword="null"/> for an interim (1xx) answer.</summary>
    private static HttpResponseMessage? ParseHead(BufferedSource source, byte[] head, HttpRequestMessage request, bool connectionLine)
    {
        var sink = new HeaderList([]);
        if (Http1ResponseHead.Parse(head, request.Method == HttpMethod.Head, connectionLine, ref sink) is not { } parsed)
        {
            return null;
        }

        var statusLine = Http1ResponseHead.TrimCr(head.AsSpan(0, head.AsSpan().IndexOf((byte)'\n')));
        var response = new HttpResponseMessage((HttpStatusCode)parsed.Status)
        {
            Version = HttpVersion.Version11,
            ReasonPhrase = statusLine.Length > 13 ? Encoding.Latin1.GetString(statusLine[13..]) : null,
            RequestMessage = request,
        };
        Stream body = parsed.Framing switch
        {
            ResponseFraming.None => new ResponseBodyStream(source, 0, chunked: false),
            ResponseFraming.Length => new ResponseBodyStream(source, parsed.Length, chunked: false),
            ResponseFraming.Chunked => new ResponseBodyStream(source, null, chunked: true),
            _ => new ResponseBodyStream(source, null, chunked: false),
        };
        response.Content = new StreamContent(body);
        foreach (var (name, value) in sink.Headers)
        {
            if (!response.Headers.TryAddWithoutValidation(name, value))
            {
                response.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        if (parsed.ContentLength >= 0)
        {
            response.Content.Headers.ContentLength = parsed.ContentLength;
        }

        return response;
    }

    /// <summary>Whether a failure of this handler is an upgrade request the container did not answer in time (a 504, not a 502).</summary>
    public static bool IsUnansweredUpgrade(Exception? exception) =>
        exception is HttpRequestException { HttpRequestError: HttpRequestError.Unknown, InnerException: TimeoutException };

    /// <summary>Whether a failure of this handler is a container's response head that broke the rules (<see cref="Http1ResponseHead"/>).</summary>
    public static bool IsInvalidHead(Exception? exception) =>
        exception is HttpRequestException { HttpRequestError: HttpRequestError.InvalidResponse, InnerException: InvalidDataException };

    /// <summary>A head's forwardable headers, as strings for <see cref="HttpResponseMessage"/>.</summary>
    private readonly struct HeaderList(List<KeyValuePair<string, string>> headers) : IResponseHeaderSink
    {
        public List<KeyValuePair<string, string>> Headers => headers;

        public void Add(string name, ReadOnlySpan<byte> value) => headers.Add(new(name, Encoding.Latin1.GetString(value)));
    }

    // A chunk-size line with its extensions; longer is a container trying to make the gateway buffer.
    private const int MaxChunkSizeLine = 4 * 1024;

    /// <summary>How many bytes of head (or trailer, or chunk-size line) may still be read; past it the response is refused.</summary>
    private sealed class HeadBudget
    {
        private readonly int _limit;
        private int _left;

        public HeadBudget(int limit) => _left = _limit = limit;

        public void Take(int bytes)
        {
            _left -= bytes;
            if (_left < 0)
            {
                throw new HttpRequestException(HttpRequestError.InvalidResponse,
                    string.Create(CultureInfo.InvariantCulture, $"The container sent a response head, trailer or chunk line longer than {_limit} bytes."));
            }
        }
    }

    /// <summary>Reads lines and bytes from the connection through one buffer.</summary>
    private sealed class BufferedSource(NetworkStream network) : IDisposable
    {
        private byte[] _buffer = new byte[16 * 1024];
        private int _start;
        private int _end;

        public NetworkStream Network { get; } = network;

        public async ValueTask<string?> ReadLineAsync(HeadBudget budget, CancellationToken cancellationToken)
        {
            var line = new StringBuilder();
            while (true)
            {
                if (_start == _end && !await FillAsync(cancellationToken))
                {
                    return line.Length == 0 ? null : throw new IOException("The connection ended in the middle of a line.");
                }

                var span = _buffer.AsSpan(_start, _end - _start);
                var newline = span.IndexOf((byte)'\n');
                var take = newline < 0 ? span : span[..newline];
                budget.Take(newline < 0 ? span.Length : newline + 1);
                line.Append(Encoding.Latin1.GetString(take));
                _start += newline < 0 ? span.Length : newline + 1;

                if (newline >= 0)
                {
                    if (line.Length > 0 && line[^1] == '\r')
                    {
                        line.Length--;
                    }

                    return line.ToString();
                }
            }
        }

        /// <summary>
        /// The next head through its empty line (<see cref="Http1ResponseHead.FindHeadEnd"/>), and whether it has a
        /// <c>Connection</c> line; longer than <paramref name="limit"/> bytes is refused.
        /// </summary>
        public async ValueTask<(byte[] Head, bool ConnectionLine)> ReadHeadAsync(int limit, CancellationToken cancellationToken)
        {
            var scanned = 0;
            var connectionLine = false;
            int end;
            while ((end = Http1ResponseHead.FindHeadEnd(_buffer.AsSpan(_start, _end - _start), ref scanned, ref connectionLine)) < 0)
            {
                if (_end - _start >= limit)
                {
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The container sent a response head longer than {Http1ResponseHead.MaxHeadBytes} bytes."));
                }

                if (_end == _buffer.Length)
                {
                    // Room for more of the head: moved to the front, or a larger buffer (a head may be up to 64 KiB).
                    var target = _start > 0 ? _buffer : new byte[Math.Min(_buffer.Length * 2, Http1ResponseHead.MaxHeadBytes + 1024)];
                    _buffer.AsSpan(_start, _end - _start).CopyTo(target);
                    _end -= _start;
                    _start = 0;
                    _buffer = target;
                }

                var read = await Network.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
                if (read == 0)
                {
                    throw _end == _start
                        ? new HttpRequestException(HttpRequestError.ResponseEnded, "The container closed the connection before it answered.")
                        : new HttpRequestException(HttpRequestError.ResponseEnded, "The container closed the connection in the middle of its response head.");
                }

                _end += read;
            }

            if (end > limit)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The container sent a response head longer than {Http1ResponseHead.MaxHeadBytes} bytes."));
            }

            var head = _buffer.AsSpan(_start, end).ToArray();
            _start += end;
            return (head, connectionLine);
        }

        public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
        {
            if (destination.IsEmpty)
            {
                return 0;
            }

            if (_start == _end)
            {
                // Large reads go straight to the caller's buffer.
                if (destination.Length >= _buffer.Length)
                {
                    return await Network.ReadAsync(destination, cancellationToken);
                }

                if (!await FillAsync(cancellationToken))
                {
                    return 0;
                }
            }

            var count = Math.Min(destination.Length, _end - _start);
            _buffer.AsMemory(_start, count).CopyTo(destination);
            _start += count;
            return count;
        }

        private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
        {
            _start = 0;
            _end = await Network.ReadAsync(_buffer, cancellationToken);
            return _end > 0;
        }

        public void Dispose() => Network.Dispose();
    }

    /// <summary>The response body: a known length, chunked, or until the container closes the connection.</summary>
    private sealed class ResponseBodyStream(BufferedSource source, long? length, bool chunked) : ReadOnlyStream
    {
        private long _remaining = chunked ? 0 : length ?? long.MaxValue;
        private bool _done = !chunked && length == 0;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_done || buffer.IsEmpty)
            {
                return 0;
            }

            if (chunked && _remaining == 0)
            {
                _remaining = await ReadChunkSizeAsync(cancellationToken);
                if (_remaining == 0)
                {
                    // Trailers, then the empty line that ends the body.
                    var trailers = new HeadBudget(MaxHeadBytes);
                    while (!string.IsNullOrEmpty(await source.ReadLineAsync(trailers, cancellationToken)))
                    {
                    }

                    _done = true;
                    return 0;
                }
            }

            var read = await source.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken);
            if (read == 0)
            {
                if (!chunked && length is null)
                {
                    // A body delimited by the connection's end.
                    _done = true;
                    return 0;
                }

                throw new IOException("The container closed the connection before the end of its response body.");
            }

            _remaining -= read;
            if (chunked && _remaining == 0 && await source.ReadLineAsync(new HeadBudget(2), cancellationToken) is not "")
            {
                throw new IOException("The container's chunked response is malformed.");
            }

            if (!chunked && length is not null && _remaining == 0)
            {
                _done = true;
            }

            return read;
        }

        private async ValueTask<long> ReadChunkSizeAsync(CancellationToken cancellationToken)
        {
            var line = await source.ReadLineAsync(new HeadBudget(MaxChunkSizeLine), cancellationToken) ?? throw new IOException("The container closed the connection before the end of its chunked response.");
            try
            {
                // The same rule as Berth's HTTP/1.1 forwarder (Http1ResponseHead.ParseChunkSize): a leading space was let through here.
                return Http1ResponseHead.ParseChunkSize(Encoding.Latin1.GetBytes(line));
            }
            catch (InvalidDataException ex)
            {
                throw new IOException(ex.Message, ex);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                source.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>Writes each write as one HTTP/1.1 chunk, sent at once.</summary>
    private sealed class ChunkedWriteStream(BodySend network) : WriteOnlyStream
    {
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty)
            {
                return;
            }

            var frame = ArrayPool<byte>.Shared.Rent(buffer.Length + 32);
            try
            {
                var header = WriteHeader(frame, buffer.Length);
                buffer.Span.CopyTo(frame.AsSpan(header));
                frame[header + buffer.Length] = (byte)'\r';
                frame[header + buffer.Length + 1] = (byte)'\n';
                await network.WriteAsync(frame.AsMemory(0, header + buffer.Length + 2), cancellationToken);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(frame);
            }
        }

        private static int WriteHeader(byte[] frame, int length)
        {
            length.TryFormat(frame, out var written, "X", CultureInfo.InvariantCulture);
            frame[written] = (byte)'\r';
            frame[written + 1] = (byte)'\n';
            return written + 2;
        }
    }

    /// <summary>Writes straight to the socket (which does not buffer), for a body of declared length.</summary>
    private sealed class UnflushedWriteStream(BodySend network) : WriteOnlyStream
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            network.WriteAsync(buffer, cancellationToken);
    }

    /// <summary>A response body: read only, reads through <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>.</summary>
    private abstract class ReadOnlyStream : Stream
    {
        public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private abstract class WriteOnlyStream : Stream
    {
        public abstract override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        // Every write already went to the socket.
        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
