using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Berth.Gateway;

/// <summary>
/// The transform of a request hopped to the hosting node's gateway: the container transform (client's <c>X-Berth-*</c>
/// headers dropped), the client's own path and query (as it sent them), plus this node's signed <see cref="NodeHopSigner.HeaderName"/>; on the way
/// back, a header the hosting node answered replaces this node's own of that name (so <c>berth-node</c> names the host).
/// </summary>
internal sealed class HopTransformer(INodeHop hop, string destination) : HttpTransformer
{
    private const string ForwardedFor = "X-Forwarded-For";
    private const string ForwardedProto = "X-Forwarded-Proto";

    // The raw target goes on the wire as the client sent it: a canonicalising Uri would turn '\' into '/' and drop '..'
    // segments, so the hosting node would route another path than this node did (under this node's signature).
    private static readonly UriCreationOptions RawTarget = new() { DangerousDisablePathAndQueryCanonicalization = true };

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await ContainerTransformer.Instance.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        // The path the client sent, not the container's (a route may have moved a prefix to PathBase): the hosting node routes
        // the request as this node did.
        var target = Target(httpContext);
        proxyRequest.RequestUri = new Uri(destinationPrefix.TrimEnd('/') + target, RawTarget);

        // The client's host, so the hosting node routes (RequireHost) and forwards (X-Forwarded-Host) as this node would.
        proxyRequest.Headers.Host = httpContext.Request.Host.Value;
        var fields = new HopFields(destination, proxyRequest.Method.Method, target, Single(proxyRequest, ForwardedFor), Single(proxyRequest, ForwardedProto));
        proxyRequest.Headers.TryAddWithoutValidation(NodeHopSigner.HeaderName, hop.Signer.Create(hop.NodeId, fields));
    }

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is not null)
        {
            foreach (var header in proxyResponse.Headers.NonValidated)
            {
                httpContext.Response.Headers.Remove(header.Key);
            }
        }

        return base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
    }

    /// <summary>Whether the request carries a hop header this cluster signed (a client's forged one is not).</summary>
    public static bool IsValidHop(HttpContext context, INodeHop hop, out string? sender)
    {
        sender = null;
        var headers = context.Request.Headers;
        if (!headers.TryGetValue(NodeHopSigner.HeaderName, out var values) || values.Count != 1 || !hop.AcceptsHopsOn(context))
        {
            return false;
        }

        var fields = new HopFields(hop.NodeId, context.Request.Method, Target(context), Single(headers[ForwardedFor]), Single(headers[ForwardedProto]));
        return hop.Signer.TryVerify(values[0], fields, out sender);
    }

    /// <summary>The request target as the client sent it (raw path and query), or as rebuilt when the server has no raw target.</summary>
    private static string Target(HttpContext context)
    {
        var raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        return !string.IsNullOrEmpty(raw) && raw[0] == '/'
            ? raw
            : (context.Request.PathBase + context.Request.Path).ToUriComponent() + context.Request.QueryString.ToUriComponent();
    }

    private static string? Single(HttpRequestMessage request, string name) =>
        request.Headers.NonValidated.TryGetValues(name, out var values) ? string.Join(", ", values) : null;

    private static string? Single(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 0 ? null : values.ToString();
}

/// <summary>
/// The transform of a request that arrived as a verified hop: the container transform, then the client's address and scheme
/// the sending node vouched for (signed in the hop header) instead of the sending node's own.
/// </summary>
internal sealed class HopReceivedTransformer : HttpTransformer
{
    public static readonly HopReceivedTransformer Instance = new();

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await ContainerTransformer.Instance.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        foreach (var name in (ReadOnlySpan<string>)["X-Forwarded-For", "X-Forwarded-Proto"])
        {
            if (httpContext.Request.Headers.TryGetValue(name, out var value))
            {
                proxyRequest.Headers.Remove(name);
                proxyRequest.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value);
            }
        }
    }

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken) =>
        ContainerTransformer.Instance.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
}
