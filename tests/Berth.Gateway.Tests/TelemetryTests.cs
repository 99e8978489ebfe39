using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Berth.Containers;
using Berth.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Berth.Gateway.Tests;

/// <summary>A class of its own, so the metrics these tests read (tagged by class) are theirs alone.</summary>
public sealed class TelemetryContainer : Container
{
    public TelemetryContainer() => DefaultPort = 8080;
}

/// <summary>OpenTelemetry metrics through the Prometheus endpoint and a cold start's trace, on a real host and engine.</summary>
[Collection(GatewayMetricsCollection.Name)]
public sealed partial class TelemetryTests(GatewayFixture fixture)
{
    private const string ClassLabel = "berth_class=\"TelemetryContainer\"";

    private Task<BerthTestHost> StartAsync(string image, Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configureHost = null) =>
        BerthTestHost.StartAsync(
            new BerthTestHostOptions
            {
                ConfigureHost = builder =>
                {
                    // Every scrape collects afresh, so values read right after a request are current.
                    builder.Configuration["Berth:Telemetry:ScrapeCacheMilliseconds"] = "0";
                    configureHost?.Invoke(builder);
                },
            },
            berth => berth.AddContainer<TelemetryContainer>(o => o.Image = image),
            app =>
            {
                app.MapBerthMetrics();
                app.MapContainer<TelemetryContainer>("/tel/{id}/{**rest}", "id", stripPrefix: true);
            },
            CancellationToken.None);

    [Fact]
    public async Task Scrape_RequestsAndColdStart_NamedMetricsListedAndCountsMove()
    {
        await using var host = await StartAsync(fixture.Images.App);
        var before = await ScrapeAsync(host);
        var startsBefore = Sum(before, "berth_container_starts_total", ClassLabel);
        var coldBefore = Sum(before, "berth_container_cold_start_duration_seconds_count", ClassLabel);
        var requestsBefore = Sum(before, "http_server_request_duration_seconds_count", "http_route=\"/tel/{id}/{**rest}\"");

        for (var i = 0; i < 3; i++)
        {
            using var response = await host.Client.GetAsync(new Uri("/tel/metrics-a/", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // ASP.NET Core records a request when its response has ended, just after the client saw it.
        var after = await Eventually.ValueAsync(() => ScrapeAsync(host),
            text => Sum(text, "http_server_request_duration_seconds_count", "http_route=\"/tel/{id}/{**rest}\"") >= requestsBefore + 3, "three requests counted");

        Assert.Equal(startsBefore + 1, Sum(after, "berth_container_starts_total", ClassLabel));
        Assert.Equal(coldBefore + 1, Sum(after, "berth_container_cold_start_duration_seconds_count", ClassLabel));
        Assert.Equal(1, Sum(after, "berth_container_instances", ClassLabel, "berth_state=\"running\""));
        Assert.Equal(0, Sum(after, "berth_container_instances", ClassLabel, "berth_state=\"starting\""));
        Assert.True(Sum(after, "berth_engine_call_duration_seconds_count", "berth_engine_operation=\"create\"") >= 1);
        Assert.True(Sum(after, "berth_engine_call_duration_seconds_count", "berth_engine_operation=\"start\"") >= 1);
        // The storage size is read at most every 15 s (NodeMetrics.StorageSizeCacheDuration); the first scrape saw no object yet.
        var later = await Eventually.ValueAsync(() => ScrapeAsync(host), t => Sum(t, "berth_storage_size_bytes", ClassLabel) > 0, "the object's storage counted");
        // Each family from the scrape that first showed it. CI once (2026-12-01) saw the request-duration family gone from the
        // later storage scrape; not explained, the likeliest cause being another test's host stopping its meter of the same
        // name in this process. What this test checks is that each family is exported at all.
        foreach (var name in new[] { "http_server_request_duration_seconds", "berth_container_starts_total", "berth_container_cold_start_duration_seconds",
                     "berth_container_instances", "berth_engine_call_duration_seconds" })
        {
            Assert.Contains("# TYPE " + name + " ", after, StringComparison.Ordinal);
        }

        Assert.Contains("# TYPE berth_storage_size_bytes ", later, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scrape_ImageMissing_RequestCountedUnderItsErrorCode()
    {
        await using var host = await StartAsync("berth-test/no-such-image:missing");

        using var response = await host.Client.GetAsync(new Uri("/tel/missing/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains(GatewayErrorCodes.ImageNotFound, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var text = await Eventually.ValueAsync(() => ScrapeAsync(host),
            t => Sum(t, "http_server_request_duration_seconds_count", "http_route=\"/tel/{id}/{**rest}\"", "error_type=\"image_not_found\"") >= 1,
            "the failed request under error.type=image_not_found");
        Assert.Equal(1, Sum(text, "http_server_request_duration_seconds_count", "http_route=\"/tel/{id}/{**rest}\"", "error_type=\"image_not_found\"", "http_response_status_code=\"500\""));
    }

    [Fact]
    public async Task ColdStart_InMemoryExporter_OneTraceAcrossGatewayObjectAndEngine()
    {
        var spans = new SpanList();
        await using var host = await StartAsync(fixture.Images.App, builder =>
            builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddBerthInstrumentation().AddInMemoryExporter(spans)));

        using var response = await host.Client.GetAsync(new Uri("/tel/traced/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The request's own span (the trace's root) ends after the client has its response.
        var start = Assert.Single(Snapshot(spans), a => a.Source.Name == ContainerTelemetry.Name && a.GetTagItem(ContainerTelemetry.ClassTag) as string == nameof(TelemetryContainer));
        var trace = await Eventually.ValueAsync(
            () => Task.FromResult(Snapshot(spans).Where(a => a.TraceId == start.TraceId).ToList()),
            t => t.Any(a => a.Source.Name == "Microsoft.AspNetCore"), "the request's span in the start's trace");

        Assert.Contains(trace, a => a.Source.Name == GatewayTelemetry.Name && a.OperationName == "berth.gateway.ensure_ready");
        Assert.Contains(trace, a => a.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal));
        Assert.Equal("berth.container.start", start.OperationName);
        Assert.Contains(trace, a => a.OperationName == "berth.engine.create" && a.ParentSpanId == start.SpanId);
        Assert.Contains(trace, a => a.OperationName == "berth.engine.start" && a.ParentSpanId == start.SpanId);

        // A warm request creates no Berth span (Berth's spans would have ended before its response was sent). Counted by this
        // class's tag: activity listeners are process-wide, and another test's host starting a container meanwhile adds its
        // four spans (ensure_ready, start, engine create and start) to this exporter too (CI saw 5 → 9, 2026-12-01).
        static int OfThisClass(List<Activity> all) => all.Count(a => a.Source.Name is GatewayTelemetry.Name or ContainerTelemetry.Name
            && a.GetTagItem(ContainerTelemetry.ClassTag) as string == nameof(TelemetryContainer));
        var berthSpans = OfThisClass(Snapshot(spans));
        Assert.True(berthSpans >= 2, "the cold start's ensure_ready and start spans carry the class");
        using var warm = await host.Client.GetAsync(new Uri("/tel/traced/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        Assert.Equal(berthSpans, OfThisClass(Snapshot(spans)));
    }

    private static List<Activity> Snapshot(SpanList spans) => spans.Snapshot();

    /// <summary>The exporter adds from the threads that end spans while the test reads: a list behind a lock.</summary>
    private sealed class SpanList : System.Collections.ObjectModel.Collection<Activity>
    {
        private readonly Lock _lock = new();

        public List<Activity> Snapshot()
        {
            lock (_lock)
            {
                return [.. Items];
            }
        }

        protected override void InsertItem(int index, Activity item)
        {
            lock (_lock)
            {
                base.InsertItem(index, item);
            }
        }
    }

    private static async Task<string> ScrapeAsync(BerthTestHost host)
    {
        using var response = await host.Client.GetAsync(new Uri("/_berth/metrics", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Sums the samples of <paramref name="metric"/> whose labels contain every one of <paramref name="labels"/>.</summary>
    private static double Sum(string exposition, string metric, params string[] labels)
    {
        double sum = 0;
        foreach (Match m in Sample().Matches(exposition))
        {
            if (m.Groups["name"].Value == metric && labels.All(l => m.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            {
                sum += double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    // Label values may hold braces (http_route="/tel/{id}/{**rest}"): a label set is quoted strings and what lies between them.
    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>(?:[^""}]|""(?:[^""\\]|\\.)*"")*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
