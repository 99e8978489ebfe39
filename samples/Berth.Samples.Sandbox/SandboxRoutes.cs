using Berth.Gateway;

namespace Berth.Samples.Sandbox;

/// <summary>The sandbox's routes, shared by <c>Program.cs</c> and the end-to-end tests.</summary>
public static class SandboxRoutes
{
    /// <summary>Session IDs: 1–64 letters, digits, '-' or '_' (anything else is a 404).</summary>
    private const string Session = "{session:regex(^[A-Za-z0-9_-]{{1,64}}$)}";

    /// <summary>
    /// Maps <c>POST /sandbox/{session}/exec</c> (a shell command in the session's container) and forwards everything
    /// else under <c>/sandbox/{session}/</c> to that session's container, without the prefix.
    /// </summary>
    public static IEndpointRouteBuilder MapSandbox(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost($"/sandbox/{Session}/exec", ExecEndpoint.RunAsync);
        endpoints.MapContainer<Sandbox>($"/sandbox/{Session}/{{**path}}", ctx => (string)ctx.Request.RouteValues["session"]!, stripPrefix: true);
        return endpoints;
    }
}
