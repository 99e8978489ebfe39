namespace Berth.Egress;

/// <summary>
/// A plain-HTTP request a container sent to a host its object answers (see <see cref="IOutboundHandler"/>). The head
/// was read and checked by the egress proxy; the body streams from the container as the handler reads
/// <see cref="Body"/> (it is never buffered whole).
/// </summary>
public sealed class OutboundRequest
{
    internal OutboundRequest(string method, string host, int port, string pathAndQuery, string version, IReadOnlyList<KeyValuePair<string, string>> headers, long? contentLength, Stream body)
    {
        Method = method;
        Host = host;
        Port = port;
        PathAndQuery = pathAndQuery;
        Version = version;
        Headers = headers;
        ContentLength = contentLength;
        Body = body;
    }

    /// <summary>Creates a request (for tests of handlers; the proxy makes its own).</summary>
    /// <param name="method">The method, for example <c>GET</c>.</param>
    /// <param name="url">An absolute <c>http://</c> URL: host, port, path and query.</param>
    /// <param name="headers">The headers; <see langword="null"/> for none.</param>
    /// <param name="body">The body; <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException"><paramref name="url"/> is not an absolute <c>http://</c> URL.</exception>
    public static OutboundRequest Create(string method, Uri url, IReadOnlyList<KeyValuePair<string, string>>? headers = null, Stream? body = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri || url.Scheme != Uri.UriSchemeHttp)
        {
            throw new ArgumentException("url: an absolute http:// URL, such as http://api.internal/items.", nameof(url));
        }

        return new OutboundRequest(method, url.IdnHost.ToLowerInvariant(), url.Port, url.PathAndQuery, "HTTP/1.1", headers ?? [], body?.CanSeek == true ? body.Length : null, body ?? Stream.Null);
    }

    /// <summary>The method, for example <c>GET</c> or <c>POST</c>.</summary>
    public string Method { get; }

    /// <summary>The host the container asked for: lowercase, without port.</summary>
    public string Host { get; }

    /// <summary>The port the container asked for (80 unless it named another).</summary>
    public int Port { get; }

    /// <summary>The path and query, starting with <c>/</c>.</summary>
    public string PathAndQuery { get; }

    /// <summary>The HTTP version the container spoke: <c>HTTP/1.1</c> or <c>HTTP/1.0</c>.</summary>
    public string Version { get; }

    /// <summary>The headers in the order sent, names as sent (<c>Proxy-Authorization</c> removed).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The body's length in bytes when the container declared one (<c>Content-Length</c>); <see langword="null"/> for a chunked body or none.</summary>
    public long? ContentLength { get; }

    /// <summary>
    /// The body, read-only, streamed from the container (empty when it sent none). Reading past its end returns 0; a
    /// container that closes the connection early makes reads throw <see cref="IOException"/>.
    /// </summary>
    public Stream Body { get; }

    /// <summary>The request's URL: <c>http://host[:port]/path?query</c>.</summary>
    public Uri Url => new($"http://{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}{(Port == 80 ? "" : $":{Port}")}{PathAndQuery}");

    /// <summary>The first value of header <paramref name="name"/> (case-insensitive), or <see langword="null"/>.</summary>
    /// <param name="name">The header name.</param>
    public string? Header(string name) =>
        Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}
