using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

/// <summary>
/// The web dashboard (docs/dashboard.md), served at <c>/_berth/dashboard/</c>: a single-page app built from the repository's
/// <c>dashboard/</c> folder and embedded in this assembly. It answers only on loopback, like the admin API it reads with the
/// admin token (<see cref="AdminOptions.Token"/>), which the user pastes into its login page.
/// </summary>
public static class BerthDashboardExtensions
{
    /// <summary>The path prefix the dashboard is served under.</summary>
    public const string RoutePrefix = "/_berth/dashboard";

    /// <summary>
    /// The Content-Security-Policy of every dashboard response: scripts, styles and requests only from this host, no inline script
    /// or style elements, no framing.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>
    /// The methods every dashboard route answers: HEAD like GET (same status and headers; the server sends no body), so link
    /// checkers and monitors that probe with HEAD get 200, not 405.
    /// </summary>
    internal static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>
    /// Maps the dashboard's files under <see cref="RoutePrefix"/> (<c>GET /_berth/dashboard/</c> is its page; every route answers HEAD
    /// as well, with the same status and headers and no body) and the admin endpoint it starts from, <c>GET /_berth/admin/dashboard/app</c> (the app, the node and the config file's classes; bearer token required).
    /// Map it beside <see cref="BerthAdminExtensions.MapBerthAdmin"/>: the dashboard reads the containers, logs, usage and errors from the admin API.
    /// </summary>
    /// <remarks>
    /// Errors, as JSON problem responses: 403 from a non-loopback address; 404 for a path that is not one of the dashboard's files;
    /// 503 when this build of Berth.Hosting carries no dashboard files (built with <c>BerthSkipDashboard=true</c> or without npm).
    /// </remarks>
    /// <returns>The route group of the dashboard's files, for further conventions.</returns>
    /// <exception cref="InvalidOperationException">The admin API's services are not registered (<c>AddBerth</c> or <c>AddBerthAdmin</c>), or no config file was loaded (<c>UseConfigFile</c>).</exception>
    public static RouteGroupBuilder MapBerthDashboard(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.ServiceProvider.GetService<AdminToken>() is null)
        {
            throw new InvalidOperationException("MapBerthDashboard needs the admin API's services: call builder.Services.AddBerthAdmin() (AddBerth does) first.");
        }

        if (endpoints.ServiceProvider.GetService<BerthAppConfig>() is null)
        {
            throw new InvalidOperationException(
                "MapBerthDashboard needs the app's config file: call berth.UseConfigFile() in AddBerth(...), so the dashboard knows the app and its classes.");
        }

        var assets = DashboardAssets.Load(typeof(BerthDashboardExtensions).Assembly);
        var logger = endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BerthDashboardExtensions).FullName!);
        if (assets.IsEmpty)
        {
            DashboardLog.NotBuilt(logger);
        }
        else
        {
            DashboardLog.Mapped(logger, RoutePrefix + "/", assets.Count);
        }

        BerthAdminExtensions.MapDashboardApp(endpoints);
        var group = endpoints.MapGroup(RoutePrefix).ExcludeFromDescription();
        group.MapMethods("/", GetAndHead, (HttpContext http) => Serve(http, assets, DashboardAssets.IndexPath));
        group.MapMethods("/{**path}", GetAndHead, (HttpContext http, string? path) => Serve(http, assets, path));
        return group;
    }

    private static IResult Serve(HttpContext http, DashboardAssets assets, string? path)
    {
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";

        var remote = http.Connection.RemoteIpAddress;
        if (remote is null || !IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote))
        {
            return Results.Problem("The Berth dashboard answers only requests from loopback (127.0.0.1 or ::1), like the admin API.",
                statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        }

        if (assets.IsEmpty)
        {
            return Results.Problem(
                "This build of Berth.Hosting carries no dashboard files: it was built without npm or with BerthSkipDashboard=true. Run scripts/dashboard.sh, then build again.",
                statusCode: StatusCodes.Status503ServiceUnavailable, title: "Dashboard not built");
        }

        if (!assets.TryGet(string.IsNullOrEmpty(path) ? DashboardAssets.IndexPath : path, out var asset))
        {
            return Results.Problem($"The dashboard has no file '{Shorten(path!)}'; its page is {RoutePrefix}/.",
                statusCode: StatusCodes.Status404NotFound, title: "Not Found");
        }

        // Built file names carry a content hash (assets/index-3IPFBjbT.js): cache them; the page itself is always fetched anew.
        headers.CacheControl = asset.Immutable ? "private, max-age=31536000, immutable" : "no-store";
        headers.ETag = asset.ETag;
        if (http.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..80] + "…";
}
