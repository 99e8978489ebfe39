using System.Net;
using Berth.Containers;
using Berth.Docker;
using Berth.Gateway;
using Berth.Objects;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Orleans.Hosting;

namespace Berth.Hosting;

/// <summary>
/// Berth's OpenTelemetry metrics and traces (docs/operations.md, "Metrics and traces"). <c>AddBerth</c> registers the SDK's
/// metrics with a Prometheus exporter (unless <see cref="TelemetryOptions.Enabled"/> is off); <see cref="MapBerthMetrics"/> maps the
/// scrape endpoint. Traces are the app's choice: <c>AddOpenTelemetry().WithTracing(t =&gt; t.AddBerthInstrumentation().AddYourExporter())</c>.
/// </summary>
public static class BerthTelemetryExtensions
{
    /// <summary>The meters Berth's metrics come from: ASP.NET Core's request metrics, Berth's own and .NET's runtime metrics.</summary>
    public static readonly IReadOnlyList<string> MeterNames =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", GatewayTelemetry.Name, ContainerTelemetry.Name, DockerTelemetry.Name, AlarmTelemetry.Name, "System.Runtime",
    ];

    /// <summary>
    /// The activity sources of a cold start's trace: ASP.NET Core's request span, Berth's gateway, Orleans' grain calls
    /// (propagated by <c>AddActivityPropagation</c>), the container object's start and the engine calls.
    /// </summary>
    public static readonly IReadOnlyList<string> ActivitySourceNames =
    [
        "Microsoft.AspNetCore", GatewayTelemetry.Name, "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", ContainerTelemetry.Name, DockerTelemetry.Name,
    ];

    /// <summary>Adds the sources of Berth's traces (<see cref="ActivitySourceNames"/>) to a tracer provider; add an exporter of your own.</summary>
    /// <param name="tracing">The tracer provider builder (<c>services.AddOpenTelemetry().WithTracing(...)</c>).</param>
    /// <returns><paramref name="tracing"/>.</returns>
    public static TracerProviderBuilder AddBerthInstrumentation(this TracerProviderBuilder tracing)
    {
        ArgumentNullException.ThrowIfNull(tracing);
        return tracing.AddSource([.. ActivitySourceNames]);
    }

    /// <summary>Adds Berth's meters (<see cref="MeterNames"/>) to a meter provider, for an exporter besides Prometheus (OTLP, …).</summary>
    /// <param name="metrics">The meter provider builder.</param>
    /// <returns><paramref name="metrics"/>.</returns>
    public static MeterProviderBuilder AddBerthInstrumentation(this MeterProviderBuilder metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return metrics.AddMeter([.. MeterNames]);
    }

    /// <summary>
    /// Registers the options (<see cref="TelemetryOptions"/>, validated at start), the bookkeeping of container metrics and,
    /// when enabled, the OpenTelemetry SDK's metrics with the Prometheus exporter and Orleans' activity propagation.
    /// </summary>
    internal static void AddBerthTelemetry(IHostApplicationBuilder builder, BerthBuilder berth)
    {
        var services = builder.Services;
        var section = builder.Configuration.GetSection(TelemetryOptions.SectionName);
        services.AddOptions<TelemetryOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>());
        if (!section.GetValue(nameof(TelemetryOptions.Enabled), true))
        {
            return;
        }

        services.TryAddSingleton(sp => new ContainerInstanceMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton<IContainerStateObserver>(sp => sp.GetRequiredService<ContainerInstanceMetrics>());
        services.TryAddSingleton(sp => new NodeMetrics(
            sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            sp.GetRequiredService<IOptions<DurableObjectOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<Berth.Gateway.Pools.ContainerPoolRegistry>()));
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddBerthInstrumentation()
            .AddPrometheusExporter(o =>
            {
                var options = section.Get<TelemetryOptions>() ?? new TelemetryOptions();
                o.ScrapeEndpointPath = options.PrometheusPath;
                o.ScrapeResponseCacheDurationMilliseconds = options.ScrapeCacheMilliseconds;
            }));
        // The observable instruments exist once the meter provider runs: make them with it.
        services.AddHostedService(sp => new NodeMetricsStarter(sp.GetRequiredService<NodeMetrics>(), sp.GetRequiredService<ContainerInstanceMetrics>()));
        berth.ConfigureSilo(silo => silo.AddActivityPropagation());
    }

    /// <summary>
    /// Maps the Prometheus scrape endpoint at <see cref="TelemetryOptions.PrometheusPath"/> (default <c>/_berth/metrics</c>). It answers
    /// loopback clients only (<c>403</c> JSON problem to others) unless <see cref="TelemetryOptions.AllowRemoteScrape"/>; with
    /// <see cref="TelemetryOptions.Enabled"/> off it answers <c>404</c>. Not part of <c>MapBerthAdmin</c>: Prometheus sends no bearer token.
    /// </summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <returns>The endpoint, for more conventions (host filters, authorization).</returns>
    public static IEndpointConventionBuilder MapBerthMetrics(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        if (!options.Enabled)
        {
            return endpoints.MapGet(options.PrometheusPath, () => Results.Problem(
                "Berth's metrics are off (Berth:Telemetry:Enabled is false).", statusCode: StatusCodes.Status404NotFound, title: "Not Found"))
                .ExcludeFromDescription();
        }

        return endpoints.MapPrometheusScrapingEndpoint(options.PrometheusPath, meterProvider: null, optionsName: null, configureBranchedPipeline: branch =>
        {
            if (!options.AllowRemoteScrape)
            {
                branch.Use((context, next) => IsLoopback(context.Connection.RemoteIpAddress)
                    ? next(context)
                    : Results.Problem("Berth's metrics answer only scrapes from loopback (127.0.0.1 or ::1) unless Berth:Telemetry:AllowRemoteScrape is true.",
                        statusCode: StatusCodes.Status403Forbidden, title: "Forbidden").ExecuteAsync(context));
            }
        });
    }

    private static bool IsLoopback(IPAddress? remote) =>
        remote is not null && IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote);

    /// <summary>Resolves the metric holders when the host starts, so their instruments exist before the first scrape.</summary>
    private sealed class NodeMetricsStarter(NodeMetrics node, ContainerInstanceMetrics containers) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            GC.KeepAlive(node);
            GC.KeepAlive(containers);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
