using Berth.Hosting;
using OpenTelemetry.Trace;

namespace Berth.Samples.Docs;

/// <summary>docs/operations.md, "Metrics and traces".</summary>
internal static class TelemetryDocs
{
    public static WebApplication Metrics(WebApplicationBuilder builder)
    {
        // snippet: metrics
        builder.AddBerth(berth => berth.UseConfigFile());   // metrics on by default (Berth:Telemetry:Enabled)
        var app = builder.Build();
        app.MapBerthMetrics();   // GET /_berth/metrics: Prometheus text format, loopback only by default
        // end snippet: metrics
        return app;
    }

    public static void Traces(WebApplicationBuilder builder)
    {
        // snippet: traces
        builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing
            .AddBerthInstrumentation()    // ASP.NET Core, Berth.Gateway, Orleans, Berth.Containers, Berth.Docker
            .SetSampler(new TraceIdRatioBasedSampler(0.01)));   // then your exporter, e.g. .AddOtlpExporter()
        // end snippet: traces
    }
}
