using Berth.Containers;
using Berth.Gateway;
using Berth.Hosting;

namespace Berth.Samples.Docs.Containers;

// snippet: class
public sealed class Sandbox : Container
{
    public Sandbox()
    {
        DefaultPort = 8080;                    // where requests go
        RequiredPorts = [8080, 9090];          // all must accept connections before "healthy"
        SleepAfter = TimeSpan.FromMinutes(1);  // idle time before OnActivityExpiredAsync (default: stop)
        PingEndpoint = "/healthz";             // optional HTTP readiness check (any status < 500)
        EnableInternet = false;                // default true; false: no route out (see egress.md)
        Init = true;                           // an init process as PID 1 (the config's "init" overrides it); default false
        EnvVars["MODE"] = "sandbox";
    }

    protected override Task OnStartAsync(CancellationToken cancellationToken) { /* container started */ return Task.CompletedTask; }
    protected override Task OnStopAsync(ContainerStopInfo stop, CancellationToken cancellationToken) { /* exit code, reason */ return Task.CompletedTask; }
    protected override Task OnErrorAsync(Exception error, CancellationToken cancellationToken) { /* start failed */ return Task.CompletedTask; }
}
// end snippet: class

/// <summary>docs/containers.md.</summary>
internal static class ContainersDocs
{
    public static WebApplication Gateway(WebApplicationBuilder builder)
    {
        // snippet: gateway
        builder.AddBerth(berth => berth
            .UseConfigFile("berth.jsonc")          // containers[]: class_name "Sandbox", image, instance_type, max_instances
            .AddContainer<Sandbox>());

        var app = builder.Build();
        // One container per session: the name picks the object, the object owns the container.
        app.MapContainer<Sandbox>("/sandbox/{session}/{**rest}", "session", stripPrefix: true);
        // The container sees /{rest}; without stripPrefix it sees the full path, as on the seed platform.
        // Or by hand, with the typed binding:
        app.MapPost("/run/{session}", (string session, HttpContext ctx, ContainerNamespace<Sandbox> sandboxes) =>
            sandboxes.GetByName(session).FetchAsync(ctx));
        // end snippet: gateway
        return app;
    }
}
