using Berth.Hosting;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;

namespace Berth.Bench.EndToEnd;

/// <summary>
/// The cost of Berth's metrics on the warm path: the same wrk load against the gateway with <c>Berth:Telemetry:Enabled</c>
/// on (OpenTelemetry SDK listening, Prometheus exporter, scraped once a second as a busy Prometheus would) and off, in one
/// process. Hosts run one at a time (a live meter provider listens to every host's meters), alternating the order per
/// repetition; medians over the repetitions.
/// </summary>
internal static class TelemetryOverhead
{
    public static async Task<int> RunAsync(BenchArgs args, string image, CancellationToken cancellationToken)
    {
        var reps = args.Int("reps", 3);
        var seconds = args.Int("duration", 10);
        var connections = args.Int("connections", 32);
        var threads = args.Int("threads", 1);
        var instanceType = InstanceType.Parse(args.Get("instance-type", "standard-3"));
        Report.Title($"telemetry on vs off (gateway, wrk -t{threads} -c{connections} -d{seconds}s --latency, {reps} repetitions each; instance type {instanceType.Name})", args);
        Report.Line($"Load before: {HostInfo.LoadAverage()}");
        Report.Line("");

        var runs = new List<(bool On, WrkResult Wrk, double CpuUsPerRequest)>();
        for (var rep = 0; rep < reps; rep++)
        {
            foreach (var on in rep % 2 == 0 ? new[] { true, false } : [false, true])
            {
                await using var host = await BenchHost.StartAsync(
                    new ClassSettings(image, instanceType, 10, TimeSpan.FromMinutes(30), TimeSpan.FromSeconds(2)), cancellationToken,
                    configureHost: builder => builder.Configuration["Berth:Telemetry:Enabled"] = on ? "true" : "false",
                    map: app => app.MapBerthMetrics());
                var url = new Uri(host.BaseAddress, "/c/warm/hello").ToString();
                using (var first = await host.Client.GetAsync(url, cancellationToken))
                {
                    first.EnsureSuccessStatusCode();
                }

                // Warm-up: the JIT and connection pools (later hosts in this process reuse most of the JIT's work).
                await Wrk.RunAsync(url, threads, connections, 5, null, cancellationToken);
                using var scrapes = new CancellationTokenSource();
                var scraping = on ? ScrapeEverySecondAsync(host, scrapes.Token) : Task.CompletedTask;
                var cpuBefore = HostInfo.ProcessCpuSeconds(Environment.ProcessId);
                var result = await Wrk.RunAsync(url, threads, connections, seconds, null, cancellationToken);
                var cpu = HostInfo.ProcessCpuSeconds(Environment.ProcessId) - cpuBefore;
                await scrapes.CancelAsync();
                var scraped = await scraping.ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
                runs.Add((on, result, cpu * 1e6 / result.Requests));
                if (result.Non2xx > 0 || result.SocketErrors > 0)
                {
                    Report.Line($"WARNING telemetry {(on ? "on" : "off")}: {result.Non2xx} non-2xx, {result.SocketErrors} socket errors");
                }

                if (on && !scraped)
                {
                    Report.Line("WARNING: a scrape of /_berth/metrics failed during the run.");
                }

                Console.Error.Write('.');
            }
        }

        Console.Error.WriteLine();
        Report.Line("| rep | telemetry | req/s | p50 ms | p99 ms | gateway process CPU µs/req |");
        Report.Line("|---|---|---|---|---|---|");
        for (var i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            Report.Line($"| {(i / 2) + 1} | {(r.On ? "on" : "off")} | {Stats.F(r.Wrk.RequestsPerSecond, 0)} | {Stats.F(r.Wrk.P50Ms, 3)} | {Stats.F(r.Wrk.P99Ms, 3)} | {Stats.F(r.CpuUsPerRequest)} |");
        }

        double Median(bool on, Func<(bool On, WrkResult Wrk, double Cpu), double> value) =>
            Stats.Median(runs.Where(r => r.On == on).Select(r => value((r.On, r.Wrk, r.CpuUsPerRequest))).ToList());
        var onRps = Median(true, r => r.Wrk.RequestsPerSecond);
        var offRps = Median(false, r => r.Wrk.RequestsPerSecond);
        Report.Line("");
        Report.Line("| medians | req/s | p50 ms | p99 ms | CPU µs/req |");
        Report.Line("|---|---|---|---|---|");
        foreach (var on in new[] { false, true })
        {
            Report.Line($"| telemetry {(on ? "on" : "off")} | {Stats.F(Median(on, r => r.Wrk.RequestsPerSecond), 0)} | {Stats.F(Median(on, r => r.Wrk.P50Ms), 3)} | {Stats.F(Median(on, r => r.Wrk.P99Ms), 3)} | {Stats.F(Median(on, r => r.Cpu))} |");
        }

        Report.Line("");
        Report.Line($"Cost of telemetry: {Stats.F(100 * (1 - (onRps / offRps)), 1)} % of req/s (target ≤ 5 %); CPU per request {Stats.F(Median(true, r => r.Cpu) - Median(false, r => r.Cpu))} µs more. Load after: {HostInfo.LoadAverage()}");
        return 0;
    }

    private static async Task ScrapeEverySecondAsync(BenchHost host, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), TimeProvider.System);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                using var response = await host.Client.GetAsync("/_berth/metrics", cancellationToken);
                response.EnsureSuccessStatusCode();
                _ = await response.Content.ReadAsStringAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run ended.
        }
    }
}
