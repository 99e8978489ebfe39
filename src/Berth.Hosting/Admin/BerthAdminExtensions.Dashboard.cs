using Berth.Containers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

// The admin endpoint the web dashboard starts from (docs/dashboard.md): the app, this node and the classes its config file declares,
// so the dashboard can show a class before any of its instances runs. Mapped by MapBerthDashboard, behind the admin API's guard.
public static partial class BerthAdminExtensions
{
    /// <summary>Maps <c>GET</c> (and <c>HEAD</c>) <c>dashboard/app</c> under <see cref="RoutePrefix"/>, behind the same loopback and token checks as the rest of the admin API.</summary>
    internal static void MapDashboardApp(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGroup(RoutePrefix).AddEndpointFilter(GuardAsync).ExcludeFromDescription()
            .MapMethods("/dashboard/app", BerthDashboardExtensions.GetAndHead, DashboardApp);

    private static IResult DashboardApp(BerthAppConfig config, IOptions<ContainerOptions> node) =>
        Results.Json(
            new DashboardAppInfo(
                config.Name,
                node.Value.NodeId,
                [.. config.Containers.Select(c => new DashboardClassInfo(
                    c.ClassName,
                    c.Image switch
                    {
                        ImageReference reference => reference.Reference,
                        DockerfileImage dockerfile => $"built from {Path.GetFileName(dockerfile.DockerfilePath)}",
                        _ => "",
                    },
                    c.InstanceType?.Name,
                    c.SleepAfter is { } sleep ? (long)sleep.TotalMilliseconds : null,
                    c.MaxInstances))]),
            BerthDashboardExtensions.Json);
}

/// <summary>Body of <c>GET /_berth/admin/dashboard/app</c>.</summary>
internal sealed record DashboardAppInfo(string App, string Node, IReadOnlyList<DashboardClassInfo> Classes);

/// <summary>A container class as the config file declares it; <c>SleepAfterMs</c> and the others are <see langword="null"/> when the file leaves them to the code.</summary>
internal sealed record DashboardClassInfo(string ClassName, string Image, string? InstanceType, long? SleepAfterMs, int? MaxInstances);
