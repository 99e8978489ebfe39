using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Berth.Gateway;

/// <summary>
/// The transform of a request hopped to the hosting node's gateway: the container transform (client's <c>X-Berth-*</c>
/// headers dropped), the client's own path and query (as it sent them), plus this node's signed <see cref="NodeHopSigner.HeaderName"/>; on the way
/// back, a header the hosting node answered replaces this node's own of that name (so <c>berth-node</c> names the host).
/// </summary>
internal sealed class HopTransformer(INodeHop hop) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await ContainerTransformer.Instance.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        // The path the client sent, not the container's (a route may have moved a prefix to PathBase): the hosting node routes
        // the request as this node did.
        var raw = httpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        var target = !string.IsNullOrEmpty(raw) && raw[0] == '/'
            ? raw
            : (httpContext.Request.PathBase + httpContext.Request.Path).ToUriComponent() + httpContext.Request.QueryString.ToUriComponent();
        proxyRequest.RequestUri = new Uri(destinationPrefix.TrimEnd('/') + target, UriKind.Absolute);
        // Signed over the path as it goes on the wire, which the receiving node reads back as its raw target.
        var path = proxyRequest.RequestUri!.AbsolutePath;
        proxyRequest.Headers.TryAddWithoutValidation(NodeHopSigner.HeaderName, hop.Signer.Create(hop.NodeId, proxyRequest.Method.Method, path));
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
        if (!context.Request.Headers.TryGetValue(NodeHopSigner.HeaderName, out var values) || values.Count != 1)
        {
            return false;
        }

        var raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        var path = string.IsNullOrEmpty(raw) ? (context.Request.PathBase + context.Request.Path).ToUriComponent() : raw.Split('?', 2)[0];
        return hop.Signer.TryVerify(values[0], context.Request.Method, path, out sender);
    }
}
