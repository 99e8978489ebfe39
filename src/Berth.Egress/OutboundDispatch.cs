using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Egress;

/// <summary>The codes of the errors the egress proxy answers for outbound handlers (documented in <c>docs/egress.md</c> and <c>docs/errors.md</c>).</summary>
public static class OutboundErrorCodes
{
    /// <summary>502: the object's handler threw before it started its answer (the object's log has the exception).</summary>
    public const string HandlerFailed = "outbound_handler_failed";

    /// <summary>502: a TLS connection (<c>CONNECT</c>) to a host an <c>OutboundByHost</c> handler answers; handlers answer plain HTTP only.</summary>
    public const string TlsUnsupported = "outbound_tls_unsupported";

    /// <summary>400: the request's body framing is not one the proxy reads (both <c>Content-Length</c> and <c>Transfer-Encoding</c>, a coding other than chunked, an invalid length, malformed chunks).</summary>
    public const string BadRequest = "outbound_bad_request";

    /// <summary>Every code, for the docs test.</summary>
    public static IReadOnlyList<string> All { get; } = [HandlerFailed, TlsUnsupported, BadRequest];
}

/// <summary>
/// Serves a container's request to a host its object answers: frames the body, calls the <see cref="IOutboundHandler"/>,
/// writes its answer, maps failures to JSON errors, counts and logs. Called by <see cref="EgressProxy"/> before the
/// egress policy.
/// </summary>
internal static class OutboundDispatch
{
    /// <summary>How much of an unread request body is drained after the answer (so the container reads the answer before the close's reset).</summary>
    private const long MaxDrainBytes = 1024 * 1024;

    /// <summary>How long draining an unread body may take.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(2);

    public static async Task ServeAsync(NetworkStream stream, EgressClient client, IOutboundHandler handler, HttpRequestHead head, int port,
        ReadOnlyMemory<byte> pending, TimeProvider time, CancellationToken cancellationToken)
    {
        client.AddOut(head.Length);
        var started = time.GetTimestamp();
        if (Framing(head, out var contentLength, out var chunked) is { } problem)
        {
            OutboundLog.BadRequest(client.Logger, client.Name, head.Host, problem);
            await WriteErrorAsync(stream, client, 400, OutboundErrorCodes.BadRequest, $"The outbound request to '{head.Host}' cannot be read: {problem}.", head.Host, cancellationToken);
            return;
        }

        var body = new OutboundRequestBody(stream, pending, contentLength, chunked, client.AddOut);
        var http11 = head.Version == "HTTP/1.1";
        if (http11 && !body.IsComplete && string.Equals(head.Header("Expect"), "100-continue", StringComparison.OrdinalIgnoreCase))
        {
            var proceed = "HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray();
            client.AddIn(proceed.Length);
            await stream.WriteAsync(proceed, cancellationToken);
        }

        var headers = head.Headers.Where(h => !IsProxyHeader(h.Key)).ToArray();
        var request = new OutboundRequest(head.Method, head.Host, port, head.PathAndQuery, head.Version, headers, chunked ? null : contentLength ?? 0, body);
        var response = new OutboundResponse(stream, framed: true, http11, headRequest: head.Method == "HEAD", client.AddIn);
        try
        {
            await handler.HandleAsync(request, response, cancellationToken);
            await response.CompleteAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            await FailAsync(stream, client, head, body, response, ex, time, cancellationToken);
            return;
        }

        OutboundLog.Answered(client.Logger, client.Name, head.Method, head.Host, head.PathAndQuery, response.StatusCode, body.BytesRead, response.BodyBytes,
            time.GetElapsedTime(started).TotalMilliseconds);
        if (!body.IsComplete)
        {
            await DrainAsync(stream, body, time, cancellationToken);
        }
    }

    /// <summary>Refuses TLS to a host an <c>OutboundByHost</c> handler answers: a <c>502</c> to a <c>CONNECT</c>, a close to transparent TLS.</summary>
    public static async Task RefuseTlsAsync(NetworkStream stream, EgressClient client, string host, int port, string kind, bool canAnswer, CancellationToken cancellationToken)
    {
        OutboundLog.TlsRefused(client.Logger, client.Name, host, port, kind);
        if (canAnswer)
        {
            await WriteErrorAsync(stream, client, 502, OutboundErrorCodes.TlsUnsupported,
                $"'{host}' is answered by the object's outbound handler over plain HTTP only: use http://{host}/ (the proxy holds no certificate for it and never terminates TLS).",
                host, cancellationToken);
        }
    }

    private static async Task FailAsync(NetworkStream stream, EgressClient client, HttpRequestHead head, OutboundRequestBody body, OutboundResponse response, Exception ex, TimeProvider time, CancellationToken cancellationToken)
    {
        if (body.ConnectionFailed || response.ConnectionFailed)
        {
            // The container went away: nobody to answer.
            OutboundLog.ContainerClosed(client.Logger, client.Name, head.Host, head.Method, head.PathAndQuery, body.BytesRead, response.BodyBytes);
            return;
        }

        var status = body.Malformed ? 400 : 502;
        if (body.Malformed)
        {
            OutboundLog.BadRequest(client.Logger, client.Name, head.Host, ex.Message);
        }
        else
        {
            OutboundLog.HandlerFailed(client.Logger, client.Name, head.Method, head.Host, head.PathAndQuery, response.HasStarted, ex);
        }

        if (response.HasStarted)
        {
            // Part of the answer is out: cut the connection so the container cannot take it for a whole one.
            stream.Socket.LingerState = new LingerOption(true, 0);
            stream.Socket.Close();
            return;
        }

        try
        {
            if (body.Malformed)
            {
                await WriteErrorAsync(stream, client, 400, OutboundErrorCodes.BadRequest, $"The outbound request to '{head.Host}' cannot be read: {ex.Message}", head.Host, cancellationToken);
            }
            else
            {
                await WriteErrorAsync(stream, client, status, OutboundErrorCodes.HandlerFailed,
                    $"The object's outbound handler for '{head.Host}' failed ({head.Method} {head.PathAndQuery}); the object's log has the error.", head.Host, cancellationToken);
            }

            if (!body.IsComplete)
            {
                await DrainAsync(stream, body, time, cancellationToken);
            }
        }
        catch (Exception write) when (write is IOException or SocketException or ObjectDisposedException)
        {
            // The container is gone too.
        }
    }

    /// <summary>Reads and drops what is left of a small request body, bounded in bytes and time.</summary>
    private static async Task DrainAsync(NetworkStream stream, OutboundRequestBody body, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            stream.Socket.Shutdown(SocketShutdown.Send);
            using var timeout = new CancellationTokenSource(DrainTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            var buffer = new byte[16 * 1024];
            var start = body.BytesRead;
            while (body.BytesRead - start < MaxDrainBytes && await body.ReadAsync(buffer, linked.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidDataException)
        {
            // Best effort: the answer is out; the close follows.
        }
    }

    /// <summary>The body's framing, or the reason it cannot be read.</summary>
    private static string? Framing(HttpRequestHead head, out long? contentLength, out bool chunked)
    {
        contentLength = null;
        chunked = false;
        var lengths = head.Headers.Where(h => string.Equals(h.Key, "Content-Length", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).Distinct(StringComparer.Ordinal).ToArray();
        var codings = head.Headers.Where(h => string.Equals(h.Key, "Transfer-Encoding", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value.Trim()).ToArray();
        if (codings.Length > 0)
        {
            if (lengths.Length > 0)
            {
                return "both Content-Length and Transfer-Encoding";
            }

            if (codings.Length != 1 || !string.Equals(codings[0], "chunked", StringComparison.OrdinalIgnoreCase))
            {
                return $"Transfer-Encoding '{string.Join(", ", codings)}' (only 'chunked' is read)";
            }

            chunked = true;
            return null;
        }

        if (lengths.Length > 1)
        {
            return "two different Content-Length headers";
        }

        if (lengths.Length == 1)
        {
            if (lengths[0].Length is 0 or > 18 || !lengths[0].All(char.IsAsciiDigit))
            {
                return $"Content-Length '{(lengths[0].Length > 20 ? lengths[0][..20] + "…" : lengths[0])}' is not a length";
            }

            contentLength = long.Parse(lengths[0], NumberStyles.None, CultureInfo.InvariantCulture);
        }

        return null;
    }

    private static bool IsProxyHeader(string name) =>
        string.Equals(name, "Proxy-Authorization", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "Proxy-Connection", StringComparison.OrdinalIgnoreCase);

    private static async Task WriteErrorAsync(NetworkStream stream, EgressClient client, int status, string code, string message, string host, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new EgressError(code, message, host, null), EgressErrorJson.Default.EgressError);
        var reason = status == 400 ? "Bad Request" : "Bad Gateway";
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\nX-Berth-Error: {code}\r\n\r\n");
        client.AddIn(head.Length + body.Length);
        await stream.WriteAsync(head, cancellationToken);
        await stream.WriteAsync(body, cancellationToken);
    }
}

internal static partial class OutboundLog
{
    [LoggerMessage(BerthEventIds.Egress + 60, LogLevel.Information,
        "Outbound {Client}: {Method} http://{Host}{Path} answered by the object: {Status}, {BytesIn} bytes in, {BytesOut} bytes out, {ElapsedMs:0} ms", EventName = "OutboundAnswered")]
    public static partial void Answered(ILogger logger, string client, string method, string host, string path, int status, long bytesIn, long bytesOut, double elapsedMs);

    [LoggerMessage(BerthEventIds.Egress + 61, LogLevel.Error,
        "Outbound handler of {Client} failed for {Method} http://{Host}{Path} (answer started: {Started}); the container gets 502 outbound_handler_failed or a cut connection", EventName = "OutboundHandlerFailed")]
    public static partial void HandlerFailed(ILogger logger, string client, string method, string host, string path, bool started, Exception exception);

    [LoggerMessage(BerthEventIds.Egress + 62, LogLevel.Warning,
        "Outbound {Client}: TLS to {Host}:{Port} ({Kind}) refused: an OutboundByHost handler answers this host over plain HTTP only", EventName = "OutboundTlsRefused")]
    public static partial void TlsRefused(ILogger logger, string client, string host, int port, string kind);

    [LoggerMessage(BerthEventIds.Egress + 63, LogLevel.Information, "Outbound {Client}: request to {Host} refused: {Reason}", EventName = "OutboundBadRequest")]
    public static partial void BadRequest(ILogger logger, string client, string host, string reason);

    [LoggerMessage(BerthEventIds.Egress + 64, LogLevel.Information,
        "Outbound {Client}: the container closed the connection of {Method} http://{Host}{Path} ({BytesIn} bytes in, {BytesOut} bytes out)", EventName = "OutboundContainerClosed")]
    public static partial void ContainerClosed(ILogger logger, string client, string host, string method, string path, long bytesIn, long bytesOut);
}
