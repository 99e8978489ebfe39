using Berth.Hosting;

namespace Berth.Samples.Docs;

/// <summary>docs/operations.md.</summary>
internal static class OperationsDocs
{
    public static WebApplication Health(WebApplicationBuilder builder)
    {
        // snippet: health
        builder.AddBerth(berth => berth.UseConfigFile());   // registers the checks: silo, engine, images
        var app = builder.Build();
        app.MapBerthHealth();   // GET /_berth/alive (liveness) and /_berth/health (readiness)
        // end snippet: health
        return app;
    }
}
