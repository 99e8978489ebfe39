using Berth.Containers;
using Berth.Gateway;
using Berth.Hosting;

namespace Berth.Samples.Docs.Scaling;

// snippet: class
/// <summary>A stateless service: any instance can serve any request (the seed's FFmpeg example).</summary>
public sealed class GifMaker : Container
{
    public GifMaker() => DefaultPort = 1337;
}
// end snippet: class

/// <summary>docs/scaling.md.</summary>
internal static class ScalingDocs
{
    public static WebApplication Gateway(WebApplicationBuilder builder)
    {
        // snippet: gateway
        builder.AddBerth(berth => berth
            .UseConfigFile("berth.jsonc")          // containers[]: class_name "GifMaker", autoscaling { … }
            .AddContainer<GifMaker>(o =>
            {
                // The same settings in code; a field the config file sets wins.
                o.Pool.MinimumInstances = 1;       // autoscaling.minimum_instances (default 0: scale to zero)
                o.Pool.TargetConcurrency = 4;      // autoscaling.target_concurrency (default 10)
            }));

        var app = builder.Build();
        // Every request to /make-gif goes to the least-loaded running instance of the pool.
        app.MapPool<GifMaker>("/make-gif");
        // Or by hand, with the typed binding:
        app.MapPost("/convert", (HttpContext ctx, ContainerNamespace<GifMaker> gifs) => gifs.GetPool().FetchAsync(ctx));
        // end snippet: gateway
        return app;
    }
}
