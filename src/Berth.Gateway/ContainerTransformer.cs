using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Berth.Gateway;

/// <summary>
/// YARP's default transform (X-Forwarded-* added, Host replaced), minus every incoming <c>X-Berth-*</c> header, and with
/// the path the client sent rather than YARP's re-encoding of the decoded path.
/// </summary>
internal sealed class ContainerTransformer : HttpTransformer
{
    public static readonly ContainerTransformer Instance = new();

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await Default.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        RemoveReservedHeaders(proxyRequest);
        RemoveClientHopHeaders(httpContext, proxyRequest);
        if (RawDestinationUri(httpContext, destinationPrefix) is { } raw)
        {
            // The default transform already built YARP's address from the decoded path; the client's own escaping wins.
            proxyRequest.RequestUri = raw;
        }
    }

    /// <summary>
    /// YARP's default copy of the container's response, minus the headers the container's <c>Connection</c> header names
    /// (RFC 9110 §7.6.1; YARP drops only the fixed hop-by-hop list). A body with a transfer coding other than chunked is
    /// refused: the thrown exception makes YARP answer <see cref="ForwarderError.ResponseHeaders"/> (502
    /// <c>upstream_responseheaders</c>), as Berth's HTTP/1.1 forwarder does (docs/gateway.md).
    /// </summary>
    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is not null)
        {
            CheckTransferCoding(httpContext, proxyResponse);
            RemoveConnectionNamed(proxyResponse);
        }

        return base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
    }

    private static void CheckTransferCoding(HttpContext httpContext, HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (status is < 200 or 204 or 205 or 304 || HttpMethods.IsHead(httpContext.Request.Method)
            || !response.Headers.NonValidated.TryGetValues("Transfer-Encoding", out var codings))
        {
            return;
        }

        var any = false;
        foreach (var value in codings)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                var coding = value.AsSpan()[range].Trim(" \t");
                if (coding.IsEmpty)
                {
                    continue;
                }

                if (!coding.Equals("chunked", StringComparison.OrdinalIgnoreCase))
                {
                    // The gateway offers the container no coding but chunked (TE is not forwarded): the label cannot be
                    // dropped (the client would take the coded bytes for the body) nor forwarded (HTTP/2 has none).
                    throw new HttpRequestException(HttpRequestError.InvalidResponse,
                        "The container applied a transfer coding other than chunked: 'Transfer-Encoding: " + codings + "'.");
                }

                any = true;
            }
        }

        if (!any)
        {
            throw new HttpRequestException(HttpRequestError.InvalidResponse, "The container sent an empty Transfer-Encoding.");
        }
    }

    private static void RemoveConnectionNamed(HttpResponseMessage response)
    {
        // A 101's "Connection: Upgrade" is YARP's to restore for the upgrade.
        if (response.StatusCode == System.Net.HttpStatusCode.SwitchingProtocols
            || !response.Headers.NonValidated.TryGetValues("Connection", out var connection))
        {
            return;
        }

        var named = NamesIn(connection);

        if (named is not null)
        {
            RemoveNamed(response.Headers, named);
            if (response.Content is { } content)
            {
                RemoveNamed(content.Headers, named);
            }
        }
    }

    /// <summary>The header names a <c>Connection</c> header's values list besides <c>close</c> and <c>keep-alive</c>; null when none.</summary>
    private static List<string>? NamesIn(IEnumerable<string?> connection)
    {
        List<string>? named = null;
        foreach (var value in connection)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                var token = value.AsSpan()[range].Trim(" \t");
                if (!token.IsEmpty && !token.Equals("close", StringComparison.OrdinalIgnoreCase) && !token.Equals("keep-alive", StringComparison.OrdinalIgnoreCase))
                {
                    (named ??= []).Add(token.ToString());
                }
            }
        }

        return named;
    }

    private static void RemoveNamed(System.Net.Http.Headers.HttpHeaders headers, List<string> named)
    {
        // By the names the collection holds: Remove(string) throws for a name that is invalid or of the other kind
        // (a content header on the response's own headers). Content-Length frames the body and stays.
        List<string>? found = null;
        foreach (var header in headers.NonValidated)
        {
            if (!header.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                && named.Exists(n => n.Equals(header.Key, StringComparison.OrdinalIgnoreCase)))
            {
                (found ??= []).Add(header.Key);
            }
        }

        foreach (var name in found ?? [])
        {
            headers.Remove(name);
        }
    }

    /// <summary>
    /// Whether a header belongs to Berth: <c>X-Berth-</c> in any case, with '_' taken for '-' as CGI-style servers do
    /// (<c>X_Berth_Container_Port</c> becomes the same <c>HTTP_X_BERTH_CONTAINER_PORT</c> variable as the dashed form).
    /// </summary>
    internal static bool IsReserved(string name)
    {
        var prefix = ContainerForwarder.ReservedHeaderPrefix;
        if (name.Length < prefix.Length)
        {
            return false;
        }

        for (var i = 0; i < prefix.Length; i++)
        {
            var c = name[i] == '_' ? '-' : char.ToUpperInvariant(name[i]);
            if (c != char.ToUpperInvariant(prefix[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Drops what YARP's default copy keeps but must not reach the container: the headers the client's <c>Connection</c>
    /// header names (RFC 9110 §7.6.1; YARP drops only the fixed hop-by-hop list), and a client's <c>Forwarded</c>
    /// (RFC 7239), which would contradict the <c>X-Forwarded-*</c> the gateway sets. As Berth's HTTP/1.1 forwarder does.
    /// </summary>
    private static void RemoveClientHopHeaders(HttpContext httpContext, HttpRequestMessage proxyRequest)
    {
        var connection = httpContext.Request.Headers.Connection;
        proxyRequest.Headers.Remove(ForwardedHeader);
        if (connection.Count == 0 || httpContext.Request.Headers.Upgrade.Count > 0)
        {
            // No names; or an upgrade, whose Connection: Upgrade YARP handles itself.
            return;
        }

        var named = NamesIn(connection);

        if (named is null)
        {
            return;
        }

        RemoveNamed(proxyRequest.Headers, named);
        if (proxyRequest.Content is { } content)
        {
            RemoveNamed(content.Headers, named);
        }
    }

    /// <summary>The client's RFC 7239 header, never forwarded (the gateway sets <c>X-Forwarded-*</c>).</summary>
    internal const string ForwardedHeader = "Forwarded";

    /// <summary>Whether a field value holds a control byte other than a tab (RFC 9110 §5.5: CR, LF, NUL, 0x01–0x1F, DEL).</summary>
    internal static bool HasControlBytes(string value)
    {
        foreach (var c in value)
        {
            if ((c < ' ' && c != '\t') || c == '\u007f')
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasControlBytes(System.Net.Http.Headers.HeaderStringValues values)
    {
        foreach (var value in values)
        {
            if (HasControlBytes(value))
            {
                return true;
            }
        }

        return false;
    }

    private static void RemoveReservedHeaders(HttpRequestMessage proxyRequest)
    {
        // The non-validated view enumerates without allocating; a list is made only when there is something to drop.
        List<string>? reserved = null;
        foreach (var header in proxyRequest.Headers.NonValidated)
        {
            if (IsReserved(header.Key) || HasControlBytes(header.Value))
            {
                (reserved ??= []).Add(header.Key);
            }
        }

        if (reserved is not null)
        {
            foreach (var name in reserved)
            {
                proxyRequest.Headers.Remove(name);
            }
        }
    }

    /// <summary>
    /// The destination with the escaped path exactly as the client sent it (minus a stripped prefix), or
    /// <see langword="null"/> to let YARP build it. Kestrel decodes the path but leaves <c>%2F</c> encoded, and YARP
    /// escapes every <c>%</c> of the decoded path, so <c>/a%2Fb</c> would reach the container as <c>/a%252Fb</c>.
    /// </summary>
    internal static Uri? RawDestinationUri(HttpContext context, string destinationPrefix) =>
        RawPathAndQuery(context) is { } raw
            ? new Uri(string.Concat(destinationPrefix.AsSpan().TrimEnd('/'), raw), UriKind.Absolute)
            : null;

    /// <summary>
    /// The escaped path as the client sent it (minus a stripped prefix) with the query, or <see langword="null"/> when
    /// the client escaped nothing in its path (then the decoded path is the same) or the app changed the path.
    /// </summary>
    internal static string? RawPathAndQuery(HttpContext context)
    {
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(rawTarget) || rawTarget[0] != '/')
        {
            return null;
        }

        var query = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var rawPath = query < 0 ? rawTarget.AsSpan() : rawTarget.AsSpan(0, query);
        if (!rawPath.Contains('%'))
        {
            // Nothing was escaped, so YARP's encoding of the decoded path is the client's path: the warm path allocates nothing here.
            return null;
        }

        var path = context.Request.Path.Value;
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        // Decoding never adds or removes a '/' (Kestrel keeps %2F encoded), so the forwarded path is the raw path's
        // last N segments, N being the decoded path's. The check below rejects a path the app or dot-segment
        // removal changed; then YARP's default applies.
        var segments = path.AsSpan().Count('/');
        var start = rawPath.Length;
        for (var found = 0; found < segments; found++)
        {
            start = rawPath[..start].LastIndexOf('/');
            if (start < 0)
            {
                return null;
            }
        }

        var rawSuffix = rawPath[start..];
        if (!string.Equals(DecodeLikeKestrel(rawSuffix), path, StringComparison.Ordinal))
        {
            return null;
        }

        return string.Concat(rawSuffix, context.Request.QueryString.ToUriComponent());
    }

    /// <summary>Percent-decodes a raw path as Kestrel does: everything except <c>%2F</c>, which stays encoded.</summary>
    private static string DecodeLikeKestrel(ReadOnlySpan<char> raw)
    {
        var decoded = new System.Text.StringBuilder(raw.Length);
        while (true)
        {
            var slash = raw.IndexOf("%2F", StringComparison.OrdinalIgnoreCase);
            var part = slash < 0 ? raw : raw[..slash];
            decoded.Append(Uri.UnescapeDataString(part.ToString()));
            if (slash < 0)
            {
                return decoded.ToString();
            }

            decoded.Append(raw.Slice(slash, 3));
            raw = raw[(slash + 3)..];
        }
    }
}
