using Berth.Containers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Berth.Cluster;

/// <summary>
/// In cluster mode only, every response carries <see cref="HeaderName"/> with the ID of the node that answered it, so a
/// client (or scripts/run-cluster.sh) can see which node served a request. A single node adds nothing.
/// </summary>
public sealed class ClusterNodeHeader(IOptions<ContainerOptions> options) : IStartupFilter
{
    /// <summary>The response header: <c>berth-node</c>.</summary>
    public const string HeaderName = "berth-node";

    /// <inheritdoc />
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return app =>
        {
            var node = new StringValues(options.Value.NodeId);
            app.Use((context, following) =>
            {
                context.Response.Headers[HeaderName] = node;
                return following(context);
            });
            next(app);
        };
    }
}
