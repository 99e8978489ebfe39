using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>
/// Settings of Berth's OpenTelemetry metrics and its Prometheus scrape endpoint (<see cref="BerthTelemetryExtensions.MapBerthMetrics"/>);
/// bound from <c>Berth:Telemetry</c>. Traces are exported only when the app adds an exporter (docs/operations.md, "Metrics and traces").
/// </summary>
public sealed class TelemetryOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Berth:Telemetry";

    /// <summary>
    /// Whether Berth registers the OpenTelemetry SDK's metrics with the Prometheus exporter (and Orleans' activity propagation).
    /// Read once, when <c>AddBerth</c> runs. When off, no meter is listened to and the scrape endpoint answers 404.
    /// </summary>
    /// <value>Default: <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>The path of the Prometheus scrape endpoint (text exposition format).</summary>
    /// <value>Default: <c>/_berth/metrics</c>. Must start with <c>/</c>.</value>
    public string PrometheusPath { get; set; } = "/_berth/metrics";

    /// <summary>
    /// Whether clients other than loopback (127.0.0.1, ::1) may scrape. Off, like the admin API, a remote scrape gets
    /// <c>403</c>; turn it on only where the listener is reachable by your Prometheus alone (the metrics name classes and error counts).
    /// </summary>
    /// <value>Default: <see langword="false"/>.</value>
    public bool AllowRemoteScrape { get; set; }

    /// <summary>How long the exporter serves the same scrape result to repeated scrapes, in milliseconds (0: collect on every scrape).</summary>
    /// <value>Default: 300 (the exporter's own default). Allowed: 0–60000.</value>
    public int ScrapeCacheMilliseconds { get; set; } = 300;
}

internal sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.PrometheusPath) || !options.PrometheusPath.StartsWith('/') || options.PrometheusPath.Contains('?', StringComparison.Ordinal))
        {
            failures.Add($"Berth:Telemetry:PrometheusPath: '{options.PrometheusPath}' is not allowed; allowed: a path starting with '/', such as '/_berth/metrics'.");
        }

        if (options.ScrapeCacheMilliseconds is < 0 or > 60_000)
        {
            failures.Add($"Berth:Telemetry:ScrapeCacheMilliseconds: {options.ScrapeCacheMilliseconds} is not allowed; allowed: 0–60000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
