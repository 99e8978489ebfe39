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
        if (RawDestinationUri(httpContext, destinationPrefix) is { } raw)
        {
            // The default transform already built YARP's address from the decoded path; the client's own escaping wins.
            proxyRequest.RequestUri = raw;
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

    private static void RemoveReservedHeaders(HttpRequestMessage proxyRequest)
    {
        // The non-validated view enumerates without allocating; a list is made only when there is something to drop.
        List<string>? reserved = null;
        foreach (var header in proxyRequest.Headers.NonValidated)
        {
            if (IsReserved(header.Key))
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
