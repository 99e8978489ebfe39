using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>
/// The host's own liveness and readiness, in ASP.NET Core's health-check idiom and beside the admin API, named as .NET Aspire
/// service defaults name them: <c>/_berth/alive</c> (liveness: the silo is active) and <c>/_berth/health</c> (readiness: the silo,
/// the container engine, and every class's image).
/// </summary>
public static class BerthHealthExtensions
{
    /// <summary>The tag of the checks that <c>/_berth/alive</c> runs.</summary>
    public const string LiveTag = "live";

    /// <summary>The tag of the checks that <c>/_berth/health</c> adds to the live ones.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Registers Berth's checks (called by <c>AddBerth</c>); more can be added to the same builder.</summary>
    public static IHealthChecksBuilder AddBerthHealthChecks(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<BerthHealthOptions>().Validate(
            o => o.EngineTimeout >= TimeSpan.FromMilliseconds(100) && o.EngineTimeout <= TimeSpan.FromMinutes(1),
            "Berth:Health:EngineTimeout must be between 100 ms and 1 min (default 2 s).").ValidateOnStart();
        services.AddSingleton<ClassImageStatus>();
        return services.AddHealthChecks()
            .AddCheck<SiloHealthCheck>("silo", tags: [LiveTag, ReadyTag])
            .AddCheck<EngineHealthCheck>("engine", tags: [ReadyTag])
            .AddCheck<ImagesHealthCheck>("images", failureStatus: HealthStatus.Unhealthy, tags: [ReadyTag]);
    }

    /// <summary>
    /// Maps <paramref name="livePattern"/> (default <c>/_berth/alive</c>) and <paramref name="readyPattern"/> (default
    /// <c>/_berth/health</c>; under <c>/_berth</c> like the admin API, so an app's own <c>/health</c> route still reaches its
    /// containers). Each answers 200 when healthy or degraded and 503 when unhealthy, with a JSON body
    /// <c>{ "status": "Healthy|Degraded|Unhealthy", "checks": { "silo": { "status", "description", "durationMs" }, … } }</c>.
    /// They need no token (a prober has none) and say nothing about objects or tenants.
    /// </summary>
    public static IEndpointConventionBuilder MapBerthHealth(this IEndpointRouteBuilder endpoints, string livePattern = "/_berth/alive", string readyPattern = "/_berth/health")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("").ExcludeFromDescription();
        group.MapHealthChecks(livePattern, new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag), ResponseWriter = WriteAsync });
        group.MapHealthChecks(readyPattern, new HealthCheckOptions { Predicate = r => r.Tags.Contains(ReadyTag) || r.Tags.Contains(LiveTag), ResponseWriter = WriteAsync });
        return group;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var checks = report.Entries.ToDictionary(
            e => e.Key,
            e => new HealthEntry(e.Value.Status.ToString(), e.Value.Description, Math.Round(e.Value.Duration.TotalMilliseconds, 1)));
        return JsonSerializer.SerializeAsync(context.Response.Body, new HealthBody(report.Status.ToString(), checks), HealthJson.Default.HealthBody, context.RequestAborted);
    }
}

internal sealed record HealthEntry(string Status, string? Description, double DurationMs);

internal sealed record HealthBody(string Status, Dictionary<string, HealthEntry> Checks);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HealthBody))]
internal sealed partial class HealthJson : System.Text.Json.Serialization.JsonSerializerContext;
