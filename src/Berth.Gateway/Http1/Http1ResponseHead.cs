using System.Buffers;
using System.Buffers.Text;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Berth.Gateway.Http1;

/// <summary>How a response's body is delimited (RFC 9112 §6.3).</summary>
internal enum ResponseFraming
{
    /// <summary>No body: HEAD, 204, 205, 304, or <c>Content-Length: 0</c>.</summary>
    None,

    /// <summary><see cref="ParsedResponseHead.Length"/> bytes.</summary>
    Length,

    /// <summary>Chunked transfer coding.</summary>
    Chunked,

    /// <summary>Until the container closes the connection.</summary>
    UntilClose,
}

/// <summary>
/// What a final response head said. <see cref="ContentLength"/> is the <c>Content-Length</c> to give the client (-1: none),
/// <see cref="Length"/> the body's length when <see cref="Framing"/> is <see cref="ResponseFraming.Length"/>, and
/// <see cref="Close"/> whether the connection must not carry another request.
/// </summary>
internal readonly record struct ParsedResponseHead(int Status, ResponseFraming Framing, long Length, long ContentLength, bool Close);

/// <summary>Takes the headers of a final response head that are to be forwarded (hop-by-hop, framing and Connection-named ones are not).</summary>
internal interface IResponseHeaderSink
{
    /// <summary>One header line: <paramref name="name"/> a token (a shared string for common names), <paramref name="value"/> trimmed, printable ASCII and tabs.</summary>
    void Add(string name, ReadOnlySpan<byte> value);
}

/// <summary>
/// The rules a container's HTTP/1.1 response head is held to, on both ways the gateway reads one: Berth's forwarder for
/// requests without a body (<see cref="Http1Forwarder"/>) and the duplex handler for requests with one
/// (<see cref="DuplexHttp1Handler"/>). The container is untrusted, so the head is parsed strictly (RFC 9112): a head of at
/// most <see cref="MaxHeadBytes"/> with at most <see cref="MaxInterimResponses"/> interim answers, a status line
/// <c>HTTP/1.d ddd</c> with a status of at least 100 and no control byte in its reason, header names that are tokens
/// (so no white space before the colon and no line folding), values without control bytes but tab and without non-ASCII
/// bytes, at most one <c>Content-Length</c> value (digits only, repeated only with the same value), no transfer coding but
/// <c>chunked</c> when a body follows, and no 101 (neither path asks for an upgrade). A <c>Transfer-Encoding</c> overrides
/// a <c>Content-Length</c> (which is then not forwarded, RFC 9112 §6.3) and the connection is not reused after it. Every
/// violation throws <see cref="InvalidDataException"/>, which both paths answer <c>502 upstream_responseheaders</c>.
/// Allocation-free for a head whose header names are common ones (the warm path).
/// </summary>
internal static class Http1ResponseHead
{
    /// <summary>The whole response head, interim answers included, in bytes: <c>SocketsHttpHandler</c>'s default MaxResponseHeadersLength.</summary>
    public const int MaxHeadBytes = 64 * 1024;

    /// <summary>Interim answers (100 Continue, 103 Early Hints) before the final one; more is a container stalling the gateway.</summary>
    public const int MaxInterimResponses = 8;

    /// <summary>YARP's RequestUtilities list (hop-by-hop and proxy-only headers), dropped both ways.</summary>
    public static readonly FrozenSet<string> HopByHop = new[]
    {
        "Connection", "Transfer-Encoding", "Keep-Alive", "Upgrade", "Proxy-Connection", "Proxy-Authenticate",
        "Proxy-Authentication-Info", "Proxy-Authorization", "Proxy-Features", "Proxy-Instruction", "Security-Scheme",
        "ALPN", "Close", "TE", "Alt-Svc",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    // field-vchar and the white space a value may hold inside (RFC 9110 §5.5); obs-text is refused as Kestrel refuses it.
    private static readonly SearchValues<byte> ValueBytes = SearchValues.Create(
        [(byte)'\t', .. Enumerable.Range(0x20, 0x7F - 0x20).Select(b => (byte)b)]);

    // reason-phrase = *( HTAB / SP / VCHAR / obs-text ) (RFC 9112 §4).
    private static readonly SearchValues<byte> ReasonBytes = SearchValues.Create(
        [(byte)'\t', .. Enumerable.Range(0x20, 0x100 - 0x20).Where(b => b != 0x7F).Select(b => (byte)b)]);

    // tchar (RFC 9110 §5.6.2).
    private static readonly SearchValues<byte> TokenBytes = SearchValues.Create(
        "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    private static ReadOnlySpan<byte> ConnectionPrefix => "Connection:"u8;

    /// <summary>
    /// The length of the head at the start of <paramref name="data"/>, through its empty line; -1 when it has not all
    /// arrived. <paramref name="scanned"/> is where the last incomplete line started: the next call goes on from there, so
    /// each byte is looked at once however slowly the head arrives. <paramref name="connectionLine"/> is set when a line is
    /// a <c>Connection</c> header, so only such a head is looked through for the headers it names.
    /// </summary>
    public static int FindHeadEnd(ReadOnlySpan<byte> data, ref int scanned, ref bool connectionLine)
    {
        while (true)
        {
            var newline = data[scanned..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                return -1;
            }

            var line = data[scanned..(scanned + newline)];
            scanned += newline + 1;
            if (line.IsEmpty || line is [(byte)'\r'])
            {
                return scanned;
            }

            if (line.Length > ConnectionPrefix.Length && (line[0] | 0x20) == 'c' && Ascii.EqualsIgnoreCase(line[..ConnectionPrefix.Length], ConnectionPrefix))
            {
                connectionLine = true;
            }
        }
    }

    /// <summary>
    /// Checks a complete head (as <see cref="FindHeadEnd"/> found it) and hands its forwardable headers to
    /// <paramref name="sink"/>; <see langword="null"/> for an interim (1xx) answer, whose headers are checked and skipped.
    /// <paramref name="headRequest"/>: the request was a HEAD (no body follows). <paramref name="connectionLine"/>: the head
    /// has a <c>Connection</c> header, whose named headers are not forwarded (RFC 9110 §7.6.1).
    /// </summary>
    /// <exception cref="InvalidDataException">The head breaks a rule above.</exception>
    public static ParsedResponseHead? Parse<TSink>(ReadOnlySpan<byte> head, bool headRequest, bool connectionLine, ref TSink sink)
        where TSink : IResponseHeaderSink, allows ref struct
    {
        var lineEnd = head.IndexOf((byte)'\n');
        var status = ParseStatusLine(TrimCr(head[..lineEnd]), out var http10);
        var interim = status is >= 100 and < 200;
        if (status == 101)
        {
            throw new InvalidDataException("The container switched protocols (101) for a request that asked for no upgrade.");
        }

        // Looked up only when the head has a Connection header (the warm path allocates nothing for it).
        var named = connectionLine && !interim ? NamedInConnection(head[(lineEnd + 1)..]) : null;
        long length = -1;
        var transferEncoding = false;
        string? otherCoding = null;
        var close = http10;
        var rest = head[(lineEnd + 1)..];
        while (true)
        {
            var newline = rest.IndexOf((byte)'\n');
            var line = TrimCr(rest[..newline]);
            rest = rest[(newline + 1)..];
            if (line.IsEmpty)
            {
                break;
            }

            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || line[..colon].ContainsAnyExcept(TokenBytes))
            {
                // Also line folding (a line starting with white space), which RFC 9112 §5.2 lets a proxy refuse.
                throw new InvalidDataException("The container sent an invalid header line: '" + Printable(line) + "'.");
            }

            var nameBytes = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (value.ContainsAnyExcept(ValueBytes))
            {
                throw new InvalidDataException("The container sent a header value with a control or non-ASCII byte: '" + Printable(nameBytes) + "'.");
            }

            if (interim)
            {
                continue;
            }

            var name = KnownHeaderNames.Get(nameBytes);
            if (HopByHop.Contains(name))
            {
                if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                {
                    transferEncoding = true;
                    if (otherCoding is null && !OnlyChunked(value))
                    {
                        otherCoding = value.IsEmpty ? "(empty)" : Printable(value);
                    }
                }
                else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
                {
                    if (ContainsToken(value, "close"u8))
                    {
                        close = true;
                    }
                    else if (http10 && ContainsToken(value, "keep-alive"u8))
                    {
                        close = false;
                    }
                }

                continue;
            }

            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                if (value.IsEmpty || !char.IsAsciiDigit((char)value[0]) || !Utf8Parser.TryParse(value, out long parsed, out var used)
                    || used != value.Length || (length >= 0 && parsed != length))
                {
                    throw new InvalidDataException("The container sent an invalid or conflicting Content-Length: '" + Printable(value) + "'.");
                }

                length = parsed;
                continue;
            }

            if (named is not null && named.Contains(name))
            {
                continue;
            }

            sink.Add(name, value);
        }

        if (interim)
        {
            return null;
        }

        if (headRequest || status is 204 or 304)
        {
            // No body follows (RFC 9112 §6.3); the length describes the representation a GET would get.
            return new(status, ResponseFraming.None, 0, status != 204 ? length : -1, close);
        }

        if (status == 205)
        {
            // 205 has no content (RFC 9110 §15.3.6) and Kestrel refuses to send any. The client gets none; whatever the
            // container framed with it goes with its connection.
            return new(status, ResponseFraming.None, 0, -1, close || length != 0);
        }

        if (transferEncoding)
        {
            if (otherCoding is not null)
            {
                // The gateway offers the container no coding but chunked (TE is not forwarded). Dropping the label would hand
                // the client the coded bytes as the body, forwarding it would apply a coding the client never accepted (and
                // HTTP/2 has none), so the answer is refused (docs/gateway.md).
                throw new InvalidDataException("The container applied a transfer coding other than chunked: 'Transfer-Encoding: " + otherCoding + "'.");
            }

            // Transfer-Encoding overrides Content-Length, which must not be forwarded (RFC 9112 §6.3); a head with both may
            // be an attempt at response splitting, so its connection carries nothing more.
            return new(status, ResponseFraming.Chunked, 0, -1, close || length >= 0);
        }

        if (length >= 0)
        {
            return new(status, length == 0 ? ResponseFraming.None : ResponseFraming.Length, length, length, close);
        }

        return new(status, ResponseFraming.UntilClose, 0, -1, Close: true);
    }

    /// <summary>
    /// The status of a status line (without its line end): <c>HTTP/1.</c>, a digit, a space, three digits of at least 100,
    /// then the end or a space and a reason without control bytes.
    /// </summary>
    private static int ParseStatusLine(ReadOnlySpan<byte> line, out bool http10)
    {
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || !char.IsAsciiDigit((char)line[7]) || line[8] != (byte)' '
            || (line.Length > 12 && (line[12] != (byte)' ' || line[13..].ContainsAnyExcept(ReasonBytes)))
            || !char.IsAsciiDigit((char)line[9]) || !Utf8Parser.TryParse(line.Slice(9, 3), out int status, out var digits) || digits != 3 || status < 100)
        {
            throw new InvalidDataException("The container's status line is not HTTP/1.x: '" + Printable(line) + "'.");
        }

        http10 = line[7] == (byte)'0';
        return status;
    }

    /// <summary>Whether a header name is a token (RFC 9110 §5.6.2).</summary>
    public static bool IsToken(ReadOnlySpan<byte> name) => !name.ContainsAnyExcept(TokenBytes);

    public static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) => line is [.., (byte)'\r'] ? line[..^1] : line;

    private static bool ContainsToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        foreach (var range in value.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(value[range].Trim(" \t"u8), token))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a Transfer-Encoding value lists <c>chunked</c> and nothing else.</summary>
    private static bool OnlyChunked(ReadOnlySpan<byte> value)
    {
        var any = false;
        foreach (var range in value.Split((byte)','))
        {
            var coding = value[range].Trim(" \t"u8);
            if (coding.IsEmpty)
            {
                // An empty list element (RFC 9110 §5.6.1): skipped.
                continue;
            }

            if (!Ascii.EqualsIgnoreCase(coding, "chunked"u8))
            {
                return false;
            }

            any = true;
        }

        return any;
    }

    /// <summary>
    /// The header names the <c>Connection</c> lines of <paramref name="lines"/> (a head's header lines) list besides
    /// <c>close</c> and <c>keep-alive</c>; <see langword="null"/> when there are none.
    /// </summary>
    private static HashSet<string>? NamedInConnection(ReadOnlySpan<byte> lines)
    {
        HashSet<string>? named = null;
        while (lines.IndexOf((byte)'\n') is var newline and >= 0)
        {
            var line = TrimCr(lines[..newline]);
            lines = lines[(newline + 1)..];
            if (line.Length <= ConnectionPrefix.Length || !Ascii.EqualsIgnoreCase(line[..ConnectionPrefix.Length], ConnectionPrefix))
            {
                continue;
            }

            var value = line[ConnectionPrefix.Length..];
            foreach (var range in value.Split((byte)','))
            {
                var token = value[range].Trim(" \t"u8);
                if (!token.IsEmpty && IsToken(token) && !Ascii.EqualsIgnoreCase(token, "close"u8) && !Ascii.EqualsIgnoreCase(token, "keep-alive"u8))
                {
                    (named ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(Encoding.ASCII.GetString(token));
                }
            }
        }

        return named;
    }

    /// <summary>Bytes from a container, for an error message: printable ASCII kept, the rest escaped, at most 200 characters.</summary>
    public static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(Math.Min(bytes.Length, 200));
        foreach (var b in bytes[..Math.Min(bytes.Length, 200)])
        {
            if (b is >= 0x20 and < 0x7F)
            {
                text.Append((char)b);
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}");
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// The size of a chunk from its line (without the CRLF): <c>chunk-size [ chunk-ext ]</c> (RFC 9112 §7.1), hex digits
    /// first (no sign, no white space before them, at most 15: no overflow, no chunk over a petabyte), white space allowed
    /// only before an extension's <c>;</c>. Throws <see cref="InvalidDataException"/> otherwise. Both forwarders use it.
    /// </summary>
    public static long ParseChunkSize(ReadOnlySpan<byte> line)
    {
        var semicolon = line.IndexOf((byte)';');
        var size = (semicolon < 0 ? line : line[..semicolon]).TrimEnd(" \t"u8);
        if (size.IsEmpty || size.Length > 15 || !char.IsAsciiHexDigit((char)size[0]) || !Utf8Parser.TryParse(size, out long value, out var used, 'x') || used != size.Length)
        {
            throw new InvalidDataException("The container sent an invalid chunk size: '" + Printable(line) + "'.");
        }

        return value;
    }

    /// <summary>
    /// Whether <paramref name="bytes"/> begin a <c>408 Request Timeout</c> status line: what a server may send just before
    /// it closes an idle connection (RFC 9110 §15.5.9), so not an answer nobody asked for.
    /// </summary>
    public static bool IsRequestTimeout(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 12 && bytes[..7].SequenceEqual("HTTP/1."u8) && bytes[8..12].SequenceEqual(" 408"u8);
}
