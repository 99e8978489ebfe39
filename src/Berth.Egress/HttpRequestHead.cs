using System.Text;

namespace Berth.Egress;

/// <summary>What <see cref="HttpRequestHead.TryParse"/> found in the bytes read so far.</summary>
public enum HttpParseStatus
{
    /// <summary>No complete head yet, and still under <see cref="HttpRequestHead.MaxHeadBytes"/>: read more.</summary>
    NeedMore,

    /// <summary>A complete, valid request head.</summary>
    Complete,

    /// <summary>Not a valid HTTP/1.x request head, or one larger than <see cref="HttpRequestHead.MaxHeadBytes"/>.</summary>
    Invalid,
}

/// <summary>The form of a request's target, which tells explicit-proxy from transparent requests.</summary>
public enum HttpTargetForm
{
    /// <summary><c>GET /path</c>: a transparent (redirected) request; the host comes from the Host header.</summary>
    Origin,

    /// <summary><c>GET http://host/path</c>: an explicit proxy request.</summary>
    Absolute,

    /// <summary><c>CONNECT host:port</c>: an explicit proxy tunnel (HTTPS through <c>HTTPS_PROXY</c>).</summary>
    Authority,
}

/// <summary>
/// One HTTP/1.x request head as a client sent it to the egress proxy: request line, headers, and the host and port it
/// asks for. Parsing is strict (hostile input is normal input): one Host header at most, no obsolete line folding, no
/// control characters, at most <see cref="MaxHeadBytes"/>.
/// </summary>
public sealed class HttpRequestHead
{
    /// <summary>The largest request head read, in bytes (16 KiB).</summary>
    public const int MaxHeadBytes = 16 * 1024;

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization", "Proxy-Authenticate", "Upgrade",
    };

    private HttpRequestHead(string method, string target, string version, HttpTargetForm form, string host, int port, string path, IReadOnlyList<KeyValuePair<string, string>> headers, int length)
    {
        Method = method;
        Target = target;
        Version = version;
        Form = form;
        Host = host;
        Port = port;
        PathAndQuery = path;
        Headers = headers;
        Length = length;
    }

    /// <summary>The method, for example <c>GET</c> or <c>CONNECT</c>.</summary>
    public string Method { get; }

    /// <summary>The request target as sent.</summary>
    public string Target { get; }

    /// <summary>The version, <c>HTTP/1.1</c> or <c>HTTP/1.0</c>.</summary>
    public string Version { get; }

    /// <summary>The target's form.</summary>
    public HttpTargetForm Form { get; }

    /// <summary>The host asked for, lowercase, without port or brackets.</summary>
    public string Host { get; }

    /// <summary>The port asked for (the target's or Host header's, else 80).</summary>
    public int Port { get; }

    /// <summary>The path and query to send upstream (origin form); empty for CONNECT.</summary>
    public string PathAndQuery { get; }

    /// <summary>The headers in order, names as sent.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The length of the head in bytes, the final empty line included; the body starts there.</summary>
    public int Length { get; }

    /// <summary>The first value of header <paramref name="name"/>, or <see langword="null"/>.</summary>
    public string? Header(string name) => Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Parses the head from the bytes read so far.</summary>
    /// <param name="data">Everything the client sent so far, from its first byte.</param>
    /// <param name="head">The parsed head when <see cref="HttpParseStatus.Complete"/>.</param>
    public static HttpParseStatus TryParse(ReadOnlySpan<byte> data, out HttpRequestHead? head)
    {
        head = null;
        var end = data[..Math.Min(data.Length, MaxHeadBytes)].IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            // Reject early what can never become a request line.
            foreach (var b in data[..Math.Min(data.Length, 16)])
            {
                if (b is < 0x20 and not (byte)'\r' and not (byte)'\n' or >= 0x7f)
                {
                    return HttpParseStatus.Invalid;
                }
            }

            return data.Length >= MaxHeadBytes ? HttpParseStatus.Invalid : HttpParseStatus.NeedMore;
        }

        foreach (var b in data[..end])
        {
            if (b is < 0x20 and not (byte)'\r' and not (byte)'\n' and not (byte)'\t' or 0x7f)
            {
                return HttpParseStatus.Invalid;
            }
        }

        var text = Encoding.Latin1.GetString(data[..end]);
        var lines = text.Split("\r\n");
        var requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || requestLine[0].Length == 0 || !requestLine[0].All(char.IsAsciiLetterUpper)
            || requestLine[1].Length == 0 || requestLine[2] is not ("HTTP/1.1" or "HTTP/1.0"))
        {
            return HttpParseStatus.Invalid;
        }

        var headers = new List<KeyValuePair<string, string>>(lines.Length - 1);
        string? hostHeader = null;
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i];
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || line[0] is ' ' or '\t' || line.Contains('\n', StringComparison.Ordinal) || line.Contains('\r', StringComparison.Ordinal))
            {
                return HttpParseStatus.Invalid;
            }

            var name = line[..colon];
            if (!name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
            {
                return HttpParseStatus.Invalid;
            }

            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase))
            {
                if (hostHeader is not null)
                {
                    return HttpParseStatus.Invalid;
                }

                hostHeader = value;
            }

            headers.Add(new(name, value));
        }

        var method = requestLine[0];
        var target = requestLine[1];
        HttpTargetForm form;
        string? host;
        int port;
        var path = "";
        if (method == "CONNECT")
        {
            form = HttpTargetForm.Authority;
            if (!HostName.TrySplitAuthority(target, 443, out host, out port) || !target.Contains(':', StringComparison.Ordinal))
            {
                return HttpParseStatus.Invalid;
            }
        }
        else if (target.StartsWith('/'))
        {
            form = HttpTargetForm.Origin;
            path = target;
            if (hostHeader is null || !HostName.TrySplitAuthority(hostHeader, 80, out host, out port))
            {
                return HttpParseStatus.Invalid;
            }
        }
        else if (target.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            form = HttpTargetForm.Absolute;
            var rest = target["http://".Length..];
            var slash = rest.IndexOfAny(['/', '?']);
            var authority = slash < 0 ? rest : rest[..slash];
            path = slash < 0 ? "/" : rest[slash] == '?' ? "/" + rest[slash..] : rest[slash..];
            if (!HostName.TrySplitAuthority(authority, 80, out host, out port))
            {
                return HttpParseStatus.Invalid;
            }

            // A Host header that names another host than the target is a smuggling attempt: refuse it.
            if (hostHeader is not null && (!HostName.TrySplitAuthority(hostHeader, 80, out var other, out _) || other != host))
            {
                return HttpParseStatus.Invalid;
            }
        }
        else
        {
            // https:// absolute form (a proxy would have to originate TLS), '*' and anything else.
            return HttpParseStatus.Invalid;
        }

        head = new HttpRequestHead(method, target, requestLine[2], form, host, port, path, headers, end + 4);
        return HttpParseStatus.Complete;
    }

    /// <summary>
    /// The head to send upstream: origin-form target, the Host header the target named, hop-by-hop and proxy headers
    /// removed and <c>Connection: close</c> (so one client connection carries one request to one checked host).
    /// </summary>
    public byte[] ToUpstreamHead()
    {
        var builder = new StringBuilder();
        builder.Append(Method).Append(' ').Append(PathAndQuery).Append(' ').Append(Version).Append("\r\n");
        var hostValue = Port == 80 ? Host : $"{Host}:{Port}";
        builder.Append("Host: ").Append(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" + (Port == 80 ? "" : $":{Port}") : hostValue).Append("\r\n");
        foreach (var (name, value) in Headers)
        {
            if (HopByHop.Contains(name) || string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            builder.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        builder.Append("Connection: close\r\n\r\n");
        return Encoding.Latin1.GetBytes(builder.ToString());
    }
}
