using System.Buffers;
using System.Buffers.Text;
using System.Collections.Frozen;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Forwarder;

namespace Berth.Gateway.Http1;

/// <summary>
/// Forwards a request without a body (the warm path: GET, HEAD, DELETE, OPTIONS) to a container over a pooled
/// HTTP/1.1 connection, writing the request head straight from Kestrel's request and the container's response straight
/// into Kestrel's response. It does what YARP's forwarder with its default transforms does for such a request
/// (hop-by-hop headers dropped both ways, <c>Host</c> of the container, <c>X-Forwarded-For/Proto/Host/Prefix</c> set,
/// the body copied as it arrives) without an <see cref="HttpRequestMessage"/>, a <see cref="Uri"/>, .NET's header
/// collections or a second HTTP stack: on two cores that is a third of the gateway's CPU per request
/// (bench/README.md, "Warm data plane"). Written here because no library forwards between Kestrel and a raw
/// connection: YARP and every other .NET proxy go through <see cref="HttpMessageInvoker"/>.
/// Requests with a body, upgrades and hops between nodes still go through YARP (<see cref="ContainerForwarder"/>).
/// The container is untrusted: its response head is bounded (64 KiB, as <c>SocketsHttpHandler</c>), parsed strictly
/// (RFC 9112: one status line, token names, no line folding, one Content-Length, chunked framing checked, no transfer
/// coding but chunked), the headers its <c>Connection</c> header names are not forwarded (RFC 9110 §7.6.1), and a
/// response that is not read exactly to its end never leaves its connection in the pool.
/// </summary>
internal sealed class Http1Forwarder : IDisposable
{
    private const int MaxHeadBytes = Http1ResponseHead.MaxHeadBytes;

    private const int MaxInterimResponses = Http1ResponseHead.MaxInterimResponses;

    // A chunk-size line with its extensions; longer is a container trying to make the gateway buffer.
    private const int MaxChunkSizeLine = 4 * 1024;

    // Containers sit on a local bridge: a connect that takes longer than this will not succeed (ContainerHttpClient's too).
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    // Dropped both ways (YARP's RequestUtilities list).
    private static readonly FrozenSet<string> HopByHop = Http1ResponseHead.HopByHop;

    // Request headers the forwarder writes itself (Host, X-Forwarded-*), that mean nothing without a body (Expect), or that
    // would contradict X-Forwarded-* (a client's own RFC 7239 Forwarded; the YARP path drops it too).
    private static readonly FrozenSet<string> Replaced = new[]
    {
        "Host", "Expect", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Prefix", ContainerTransformer.ForwardedHeader,
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private readonly Http1ConnectionPool _pool;

    public Http1Forwarder(TimeProvider timeProvider, GatewayOptions options, ILogger? logger = null)
    {
        _pool = new Http1ConnectionPool(timeProvider, options.PooledConnectionIdleTimeout, logger ?? NullLogger.Instance);
    }

    /// <summary>Idle pooled connections (tests).</summary>
    internal int IdleConnections => _pool.IdleCount;

    /// <summary>
    /// Whether this forwarder takes the request: no body (Kestrel saw none coming, or <c>Content-Length: 0</c>), not an
    /// upgrade (WebSocket), not CONNECT. Everything else goes through YARP.
    /// </summary>
    public static bool CanForward(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength is > 0)
        {
            return false;
        }

        if (request.ContentLength is null && context.Features.Get<IHttpRequestBodyDetectionFeature>() is not { CanHaveBody: false })
        {
            return false;
        }

        return !HttpMethods.IsConnect(request.Method)
            && context.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true }
            && context.Features.Get<IHttpExtendedConnectFeature>() is not { IsExtendedConnect: true };
    }

    /// <summary>
    /// Sends the request to <paramref name="host"/>:<paramref name="port"/> (the address of container
    /// <paramref name="containerId"/>) and writes the response. Returns
    /// <see cref="ForwarderError.None"/>, or the failure as YARP names it with its exception: a connection that could not
    /// be opened is <see cref="ForwarderError.Request"/> with an <see cref="HttpRequestException"/> of
    /// <see cref="HttpRequestError.ConnectionError"/> (nothing was sent); no byte in <paramref name="activityTimeout"/> is
    /// <see cref="ForwarderError.RequestTimedOut"/>; a failure once the response has started aborts the client's connection.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<(ForwarderError Error, Exception? Exception)> SendAsync(HttpContext context, string destinationPrefix, string host, int port, string containerId, TimeSpan activityTimeout)
    {
        var address = _pool.Get(destinationPrefix, host, port, containerId);
        var head = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var headLength = WriteHead(context, address.HostHeader, ref head);
            var connection = address.TryRent();
            for (var attempt = 0; ; attempt++)
            {
                var reused = connection is not null;
                if (connection is null)
                {
                    connection = address.Create();
                    var connected = await ConnectAsync(address, connection, context.RequestAborted);
                    if (connected is not null)
                    {
                        connection.Dispose();
                        // A retry after a reused connection failed: the request had been sent on it.
                        return attempt == 0
                            ? (ForwarderError.Request, connected)
                            : (ForwarderError.Request, new HttpRequestException(HttpRequestError.Unknown,
                                "The container failed the request after it was sent to it (a new connection was then refused).", connected));
                    }
                }

                Outcome outcome;
                try
                {
                    outcome = await ExchangeAsync(context, connection, head.AsMemory(0, headLength), activityTimeout, reused);
                }
                catch
                {
                    connection.Dispose();
                    throw;
                }

                if (outcome.Retry && attempt == 0)
                {
                    // The container closed a kept-alive connection as the request went out (its idle close): once more, on a new one.
                    connection.Dispose();
                    connection = null;
                    continue;
                }

                if (outcome.Reusable && connection.TryDisarm())
                {
                    address.Return(connection);
                }
                else
                {
                    connection.Dispose();
                }

                if (outcome.Unasked)
                {
                    address.Quarantine();
                }

                return (outcome.Error, outcome.Exception);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
        }
    }

    private static async ValueTask<HttpRequestException?> ConnectAsync(Http1ConnectionPool.AddressPool address, Http1Connection connection, CancellationToken requestAborted)
    {
        using var registration = requestAborted.UnsafeRegister(static s => ((Http1Connection)s!).Cancel(), connection);
        try
        {
            connection.Arm(ConnectTimeout);
            await address.ConnectAsync(connection, connection.Token);
            return null;
        }
        catch (SocketException ex)
        {
            return new HttpRequestException(HttpRequestError.ConnectionError, $"Could not connect to the container: {ex.Message}", ex);
        }
        catch (OperationCanceledException ex) when (!requestAborted.IsCancellationRequested)
        {
            return new HttpRequestException(HttpRequestError.ConnectionError, "The container's address did not accept a connection in time.", ex);
        }
    }

    // Unasked: bytes after a whole response (the container answered more than it was asked).
    private readonly record struct Outcome(ForwarderError Error, Exception? Exception, bool Reusable, bool Retry = false, bool Unasked = false);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<Outcome> ExchangeAsync(HttpContext context, Http1Connection connection, ReadOnlyMemory<byte> head, TimeSpan timeout, bool reused)
    {
        using var registration = context.RequestAborted.UnsafeRegister(static s => ((Http1Connection)s!).Cancel(), connection);
        var phase = ForwarderError.Request;
        connection.WroteBody = false;
        connection.WaitingOnClient = false;
        // Nothing of this response yet: the retry below tells a kept-alive connection the container had closed by
        // End == 0, and a send that fails (a reset) must not see the previous response's End.
        connection.Start = connection.End = 0;
        try
        {
            connection.Arm(timeout);
            await connection.Socket.SendAsync(head, SocketFlags.None, connection.Token);

            var response = await ReadHeadAsync(context, connection, timeout, reused);
            if (response.Retry)
            {
                return new(ForwarderError.Request, null, Reusable: false, Retry: true);
            }

            phase = ForwarderError.ResponseBodyDestination;
            var (complete, clientGone) = await CopyBodyAsync(context, connection, response, timeout);
            if (clientGone)
            {
                return new(ForwarderError.ResponseBodyClient, null, Reusable: false);
            }

            var reusable = complete && !response.Close && response.Framing != ResponseFraming.UntilClose && connection.Start == connection.End;
            return new(ForwarderError.None, null, reusable,
                Unasked: complete && connection.Start != connection.End && !Http1ResponseHead.IsRequestTimeout(connection.Buffer.AsSpan(connection.Start, connection.End - connection.Start)));
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or ObjectDisposedException or InvalidDataException)
        {
            if (context.RequestAborted.IsCancellationRequested)
            {
                return new(phase == ForwarderError.Request ? ForwarderError.RequestCanceled : ForwarderError.ResponseBodyCanceled, ex, Reusable: false);
            }

            if (connection.WaitingOnClient)
            {
                // The client took no bytes for the activity timeout (Kestrel may not have noticed yet): its failure, not the container's.
                context.Abort();
                return new(ForwarderError.ResponseBodyClient, ex, Reusable: false);
            }

            if (reused && phase == ForwarderError.Request && connection.End == 0 && ex is SocketException or IOException)
            {
                // Nothing of a response came on a kept-alive connection: the container had closed it. SocketsHttpHandler sends again too.
                return new(ForwarderError.Request, ex, Reusable: false, Retry: true);
            }

            // An invalid head is the container's answer being wrong (docs/errors.md: upstream_responseheaders), not its connection.
            var error = ex switch
            {
                OperationCanceledException => phase == ForwarderError.Request ? ForwarderError.RequestTimedOut : ForwarderError.ResponseBodyDestination,
                InvalidDataException when phase == ForwarderError.Request => ForwarderError.ResponseHeaders,
                _ => phase,
            };
            var reported = ex is InvalidDataException or OperationCanceledException
                ? new HttpRequestException(HttpRequestError.InvalidResponse, ex is OperationCanceledException
                    ? string.Create(CultureInfo.InvariantCulture, $"The container sent nothing for {timeout.TotalSeconds:0.###} s (Berth:Gateway:RequestActivityTimeout).")
                    : ex.Message, ex)
                : new HttpRequestException(HttpRequestError.Unknown, "The container failed the request after it was sent to it: " + ex.Message, ex);
            if (phase != ForwarderError.Request && (connection.WroteBody || context.Response.HasStarted))
            {
                // Part of the body went out: the client must see a broken response, not a short one.
                context.Abort();
            }

            return new(error, reported, Reusable: false);
        }
        catch (InvalidOperationException ex) when (phase == ForwarderError.Request)
        {
            // Kestrel refused a header value of the container's (a control or non-ASCII character).
            return new(ForwarderError.ResponseHeaders, new HttpRequestException(HttpRequestError.InvalidResponse, ex.Message, ex), Reusable: false);
        }
    }

    /// <summary>What the final response head said about the body and the connection.</summary>
    private readonly record struct ResponseHead(ResponseFraming Framing, long Length, bool Close, bool Retry = false);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<ResponseHead> ReadHeadAsync(HttpContext context, Http1Connection connection, TimeSpan timeout, bool reused)
    {
        connection.Start = connection.End = 0;
        var total = 0;
        for (var interim = 0; ; )
        {
            // The end of the head: an empty line. Each byte is looked at once, however slowly the head arrives.
            int end;
            var scanned = 0;
            var connectionLine = false;
            while ((end = Http1ResponseHead.FindHeadEnd(connection.Buffer.AsSpan(connection.Start, connection.End - connection.Start), ref scanned, ref connectionLine)) < 0)
            {
                if (connection.End - connection.Start + total >= MaxHeadBytes
                    || (connection.End == connection.Buffer.Length && connection.Start == 0 && !connection.TryGrow(MaxHeadBytes)))
                {
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The container sent a response head longer than {MaxHeadBytes} bytes."));
                }

                var before = connection.End;
                if (await connection.FillAsync(timeout) == 0)
                {
                    if (before == 0 && interim == 0 && reused)
                    {
                        return new(ResponseFraming.None, 0, Close: true, Retry: true);
                    }

                    throw new IOException("The container closed the connection before it answered.");
                }
            }

            var headSpan = connection.Buffer.AsSpan(connection.Start, end);
            total += end;
            connection.Start += end;
            var parsed = ApplyHead(context, connection, headSpan, connectionLine);
            if (parsed is { } final)
            {
                return final;
            }

            if (++interim > MaxInterimResponses)
            {
                throw new InvalidDataException($"The container sent more than {MaxInterimResponses} interim (1xx) answers.");
            }
        }
    }

    /// <summary>
    /// Applies a complete head to the response by the rules both forwarders share (<see cref="Http1ResponseHead"/>);
    /// <see langword="null"/> for an interim (1xx) answer, which is skipped.
    /// </summary>
    private static ResponseHead? ApplyHead(HttpContext context, Http1Connection connection, ReadOnlySpan<byte> head, bool connectionLine)
    {
        var response = context.Response;
        var sink = new ResponseHeaderSink(response.Headers, connection.Values);
        if (Http1ResponseHead.Parse(head, HttpMethods.IsHead(context.Request.Method), connectionLine, ref sink) is not { } parsed)
        {
            return null;
        }

        response.StatusCode = parsed.Status;
        if (parsed.ContentLength >= 0)
        {
            response.ContentLength = parsed.ContentLength;
        }

        return new(parsed.Framing, parsed.Length, parsed.Close);
    }

    /// <summary>Appends a head's headers to Kestrel's response, each value's string reused from the connection's previous response when it is the same.</summary>
    private struct ResponseHeaderSink(IHeaderDictionary headers, HeaderValueCache values) : IResponseHeaderSink
    {
        private int _position;

        public void Add(string name, ReadOnlySpan<byte> value) => headers.Append(name, values.Get(_position++, name, value));
    }

    /// <summary>Copies the body; (false, _) when it ended early, (_, true) when the client went away.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<(bool Complete, bool ClientGone)> CopyBodyAsync(HttpContext context, Http1Connection connection, ResponseHead head, TimeSpan timeout)
    {
        var writer = context.Response.BodyWriter;
        switch (head.Framing)
        {
            case ResponseFraming.None:
                return (true, false);

            case ResponseFraming.Length:
                var remaining = head.Length;
                while (true)
                {
                    var buffered = connection.End - connection.Start;
                    if (buffered > 0)
                    {
                        var take = (int)Math.Min(buffered, remaining);
                        writer.Write(connection.Buffer.AsSpan(connection.Start, take));
                        connection.WroteBody = true;
                        connection.Start += take;
                        remaining -= take;
                        if (remaining == 0)
                        {
                            // Kestrel flushes the rest when the request ends only if it never flushed this response
                            // (the head and the whole body in one read); once it has, a Content-Length body's last
                            // bytes would sit in its pipe until the client's next request.
                            if (context.Response.HasStarted)
                            {
                                await FlushAsync(writer, connection, timeout);
                            }

                            return (true, false);
                        }
                    }

                    if (await FlushAsync(writer, connection, timeout))
                    {
                        return (false, true);
                    }

                    connection.Start = connection.End = 0;
                    if (await connection.FillAsync(timeout) == 0)
                    {
                        throw new IOException(string.Create(CultureInfo.InvariantCulture, $"The container closed the connection {remaining} bytes before the end of its response body."));
                    }
                }

            case ResponseFraming.Chunked:
                return await CopyChunkedAsync(writer, connection, timeout);

            default:
                while (true)
                {
                    if (connection.End > connection.Start)
                    {
                        writer.Write(connection.Buffer.AsSpan(connection.Start, connection.End - connection.Start));
                        connection.WroteBody = true;
                        if (await FlushAsync(writer, connection, timeout))
                        {
                            return (false, true);
                        }
                    }

                    connection.Start = connection.End = 0;
                    if (await connection.FillAsync(timeout) == 0)
                    {
                        return (true, false);
                    }
                }
        }
    }

    private static async ValueTask<(bool Complete, bool ClientGone)> CopyChunkedAsync(PipeWriter writer, Http1Connection connection, TimeSpan timeout)
    {
        long chunkLeft = 0;
        var trailerBytes = 0;
        var state = ChunkState.Size;
        while (true)
        {
            var data = connection.Buffer.AsSpan(connection.Start, connection.End - connection.Start);
            while (!data.IsEmpty)
            {
                if (state == ChunkState.Data)
                {
                    var take = (int)Math.Min(data.Length, chunkLeft);
                    writer.Write(data[..take]);
                    connection.WroteBody = true;
                    connection.Start += take;
                    data = data[take..];
                    chunkLeft -= take;
                    if (chunkLeft == 0)
                    {
                        state = ChunkState.DataEnd;
                    }

                    continue;
                }

                var newline = data.IndexOf((byte)'\n');
                if (newline < 0)
                {
                    var limit = state == ChunkState.Trailers ? MaxHeadBytes - trailerBytes : MaxChunkSizeLine;
                    if (data.Length > limit)
                    {
                        throw new InvalidDataException("The container's chunked response has a chunk-size or trailer line that is too long.");
                    }

                    break;
                }

                var line = Http1ResponseHead.TrimCr(data[..newline]);
                connection.Start += newline + 1;
                data = data[(newline + 1)..];
                switch (state)
                {
                    case ChunkState.Size:
                        // The same limit whether the line came in one read or several (the duplex path's rule).
                        // Counted with its CRLF, as the duplex path counts it.
                        if (newline + 1 > MaxChunkSizeLine)
                        {
                            throw new InvalidDataException("The container's chunked response has a chunk-size or trailer line that is too long.");
                        }

                        chunkLeft = Http1ResponseHead.ParseChunkSize(line);
                        state = chunkLeft == 0 ? ChunkState.Trailers : ChunkState.Data;
                        break;
                    case ChunkState.DataEnd:
                        if (!line.IsEmpty)
                        {
                            throw new InvalidDataException("The container's chunked response is malformed (no line end after a chunk).");
                        }

                        state = ChunkState.Size;
                        break;
                    default:
                        // Trailers are not forwarded (HTTP/1.1 clients rarely take them); the empty line ends the body.
                        trailerBytes += newline + 1;
                        if (trailerBytes > MaxHeadBytes)
                        {
                            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The container's trailers are longer than {MaxHeadBytes} bytes."));
                        }

                        if (line.IsEmpty)
                        {
                            return (true, false);
                        }

                        break;
                }
            }

            // Before waiting for more: what arrived goes to the client now (server-sent events, streamed pages).
            if (await FlushAsync(writer, connection, timeout))
            {
                return (false, true);
            }

            connection.Compact();
            if (await connection.FillAsync(timeout) == 0)
            {
                throw new IOException("The container closed the connection before the end of its chunked response.");
            }
        }
    }

    private enum ChunkState
    {
        Size,
        Data,
        DataEnd,
        Trailers,
    }

    /// <summary>Flushes what was written to the client; true when the client is gone.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> FlushAsync(PipeWriter writer, Http1Connection connection, TimeSpan timeout)
    {
        connection.Arm(timeout);
        connection.WaitingOnClient = true;
        var result = await writer.FlushAsync(connection.Token);
        connection.WaitingOnClient = false;
        return result.IsCompleted || result.IsCanceled;
    }

    /// <summary>
    /// Writes the request line and headers into <paramref name="buffer"/> (grown from the pool when needed) and returns
    /// their length. The target is the client's own (escaping kept, a stripped prefix removed); the headers are the
    /// client's minus hop-by-hop, <c>X-Berth-*</c>, the ones its <c>Connection</c> header names and any with a line
    /// break; then <c>Host</c> of the container and <c>X-Forwarded-For/Proto/Host/Prefix</c>, set as YARP's defaults set them.
    /// </summary>
    internal static int WriteHead(HttpContext context, ReadOnlySpan<byte> hostHeader, ref byte[] buffer)
    {
        var request = context.Request;
        var head = new HeadWriter(buffer);
        head.WriteAscii(request.Method);
        head.Write(" "u8);
        if (ContainerTransformer.RawPathAndQuery(context) is { } raw)
        {
            head.WriteLatin1(raw);
        }
        else
        {
            var path = request.Path;
            head.WriteLatin1(path.HasValue ? path.ToUriComponent() : "/");
            head.WriteLatin1(request.QueryString.Value);
        }

        head.Write(" HTTP/1.1\r\nHost: "u8);
        head.Write(hostHeader);
        head.Write("\r\n"u8);

        var requestHeaders = request.Headers;
        var connectionHeader = requestHeaders.Connection;
        // Copied out, not enumerated: foreach over IHeaderDictionary boxes its struct enumerator (Kestrel's
        // HttpRequestHeaders and HeaderDictionary alike), one object per request; CopyTo fills a pooled array and
        // allocates nothing.
        var count = requestHeaders.Count;
        var pairs = ArrayPool<KeyValuePair<string, StringValues>>.Shared.Rent(count);
        try
        {
            requestHeaders.CopyTo(pairs, 0);
            foreach (ref readonly var header in pairs.AsSpan(0, count))
            {
                var name = header.Key;
                if (name is null || name.StartsWith(':') || HopByHop.Contains(name) || Replaced.Contains(name) || ContainerTransformer.IsReserved(name)
                    || (connectionHeader.Count > 0 && NamedIn(connectionHeader, name)) || !IsValid(header.Value))
                {
                    continue;
                }

                head.WriteAscii(name);
                head.Write(": "u8);
                var values = header.Value;
                for (var i = 0; i < values.Count; i++)
                {
                    if (i > 0)
                    {
                        // HttpClient joins with ", "; a Cookie header's parts are joined with "; " (RFC 6265 §5.4).
                        head.Write(name.Equals("Cookie", StringComparison.OrdinalIgnoreCase) ? "; "u8 : ", "u8);
                    }

                    head.WriteLatin1(values[i]);
                }

                head.Write("\r\n"u8);
            }
        }
        finally
        {
            // The pool must not keep this request's strings alive.
            pairs.AsSpan(0, count).Clear();
            ArrayPool<KeyValuePair<string, StringValues>>.Shared.Return(pairs);
        }

        if (context.Connection.RemoteIpAddress is { } remote)
        {
            head.Write("X-Forwarded-For: "u8);
            head.WriteAddress(remote);
            head.Write("\r\n"u8);
        }

        head.Write("X-Forwarded-Proto: "u8);
        head.WriteAscii(request.Scheme);
        head.Write("\r\n"u8);
        if (request.Host.HasValue)
        {
            head.Write("X-Forwarded-Host: "u8);
            head.WriteLatin1(request.Host.Value);
            head.Write("\r\n"u8);
        }

        if (request.PathBase.HasValue)
        {
            head.Write("X-Forwarded-Prefix: "u8);
            head.WriteLatin1(request.PathBase.ToUriComponent());
            head.Write("\r\n"u8);
        }

        head.Write("\r\n"u8);
        buffer = head.Buffer;
        return head.Length;
    }

    private static bool IsValid(StringValues values)
    {
        for (var i = 0; i < values.Count; i++)
        {
            // A line break would start a header of the sender's choosing (YARP drops such a header too), and no other
            // control byte but a tab is allowed in a field value (RFC 9110 §5.5): what a container's parser makes of one is
            // its own guess.
            if (values[i] is { } value && ContainerTransformer.HasControlBytes(value))
            {
                return false;
            }
        }

        return true;
    }

    private static bool NamedIn(StringValues connection, string name)
    {
        foreach (var value in connection)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                if (value.AsSpan()[range].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    public void Dispose() => _pool.Dispose();

    /// <summary>Appends to a pooled byte buffer, growing it from <see cref="ArrayPool{T}.Shared"/>.</summary>
    private ref struct HeadWriter(byte[] buffer)
    {
        public byte[] Buffer = buffer;
        public int Length;

        public void Write(ReadOnlySpan<byte> bytes)
        {
            Ensure(bytes.Length);
            bytes.CopyTo(Buffer.AsSpan(Length));
            Length += bytes.Length;
        }

        public void WriteAscii(string? text) => WriteLatin1(text);

        /// <summary>
        /// ASCII as is; any other character as UTF-8, the encoding Kestrel decodes request header bytes with by default, so
        /// the container gets the client's own bytes (Latin-1 would turn a client's UTF-8 "é" into one invalid byte).
        /// </summary>
        public void WriteLatin1(string? text)
        {
            if (string.IsNullOrEmpty(text))
            {
                return;
            }

            if (!System.Text.Ascii.IsValid(text))
            {
                Ensure(Encoding.UTF8.GetMaxByteCount(text.Length));
                Length += Encoding.UTF8.GetBytes(text, Buffer.AsSpan(Length));
                return;
            }

            Ensure(text.Length);
            Length += Encoding.Latin1.GetBytes(text, Buffer.AsSpan(Length));
        }

        public void WriteAddress(IPAddress address)
        {
            if (address.IsIPv4MappedToIPv6)
            {
                // A dual-mode listener's IPv4 client, written as the IPv4 address it is (as MapToIPv4 would, without a
                // new IPAddress per request).
                Span<byte> bytes = stackalloc byte[16];
                address.TryWriteBytes(bytes, out _);
                Ensure(15);
                for (var i = 12; i < 16; i++)
                {
                    if (i > 12)
                    {
                        Buffer[Length++] = (byte)'.';
                    }

                    Utf8Formatter.TryFormat(bytes[i], Buffer.AsSpan(Length), out var digits);
                    Length += digits;
                }

                return;
            }

            Span<char> chars = stackalloc char[64];
            if (address.TryFormat(chars, out var written))
            {
                Ensure(written);
                Length += Encoding.ASCII.GetBytes(chars[..written], Buffer.AsSpan(Length));
            }
        }

        private void Ensure(int more)
        {
            if (Length + more <= Buffer.Length)
            {
                return;
            }

            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(Buffer.Length * 2, Length + more));
            Buffer.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = bigger;
        }
    }
}
