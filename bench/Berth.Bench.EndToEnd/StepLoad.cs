using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Berth.Containers;
using Berth.Gateway;
using Berth.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Bench.EndToEnd;

/// <summary>
/// A pool under a step load: 1 → <c>--peak</c> → 1 concurrent clients (closed loop, loopback only), each calling the
/// test app's <c>GET /slow?ms=…</c> through <c>MapPool</c>. Every second it records the clients, the pool's wanted and
/// running instances, the requests done and their p99 latency, and writes them as CSV for bench/plot-step-load.py.
/// </summary>
internal static class StepLoad
{
    public static async Task<int> RunAsync(BenchArgs args, string image, CancellationToken cancellationToken)
    {
        var peak = args.Int("peak", 32);
        var low = args.Int("low", 1);
        var phases = args.Get("phases", "20,40,40").Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        var workMs = args.Int("work-ms", 50);
        var target = args.Int("target-concurrency", 4);
        var maxInstances = args.Int("max-instances", 12);
        var stableWindow = TimeSpan.FromSeconds(args.Int("stable-window", 20));
        var panicWindow = TimeSpan.FromSeconds(args.Int("panic-window", 2));
        var scaleDownDelay = TimeSpan.FromSeconds(args.Int("scale-down-delay", 10));
        var csvPath = args.Get("csv", "bench/step-load.csv");
        Report.Title($"pool step load ({low} → {peak} → {low} clients for {string.Join("/", phases)} s; GET /slow?ms={workMs}; target_concurrency {target}, " +
            $"max_instances {maxInstances}, minimum_instances 1, stable window {stableWindow.TotalSeconds} s, panic window {panicWindow.TotalSeconds} s, scale_down_delay {scaleDownDelay.TotalSeconds} s)", args);

        var options = new BerthTestHostOptions
        {
            AppName = "benchpool" + Guid.NewGuid().ToString("N")[..8],
            EnvironmentName = "Production",
            LogsVariable = "BERTH_BENCH_LOGS",
            ClientTimeout = TimeSpan.FromSeconds(120),
            ClientHandler = () => new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = int.MaxValue },
        };
        options.ExtraLabels["berth.bench"] = "1";
        await using var host = await BerthTestHost.StartAsync(
            options,
            berth => berth.AddContainer<BenchApp>(o =>
            {
                o.Image = image;
                o.InstanceType = InstanceType.Lite;
                o.MaxInstances = maxInstances;
                foreach (var (key, value) in BenchHost.AppEnvironment)
                {
                    o.EnvVars[key] = value;
                }

                o.Pool.MinimumInstances = 1;
                o.Pool.TargetConcurrency = target;
                o.Pool.StableWindow = stableWindow;
                o.Pool.PanicWindow = panicWindow;
                o.Pool.ScaleDownDelay = scaleDownDelay;
            }),
            app => app.MapPool<BenchApp>("/pool/{**path}", stripPrefix: true),
            cancellationToken);
        var pool = host.Services.GetRequiredService<ContainerNamespace<BenchApp>>().GetPool();
        var warmup = Stopwatch.StartNew();
        while (pool.RunningInstances < 1 && warmup.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100, cancellationToken);
        }

        var clock = Stopwatch.StartNew();
        var total = TimeSpan.FromSeconds(phases.Sum());
        int ClientsAt(TimeSpan t) => t.TotalSeconds < phases[0] ? low : t.TotalSeconds < phases[0] + phases[1] ? peak : low;

        var latencies = new ConcurrentQueue<double>();
        var failures = 0;
        var path = $"/pool/slow?ms={workMs}";
        async Task ClientAsync(int index)
        {
            while (clock.Elapsed < total && !cancellationToken.IsCancellationRequested)
            {
                if (index >= ClientsAt(clock.Elapsed))
                {
                    await Task.Delay(50, cancellationToken);
                    continue;
                }

                var begin = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await host.Client.GetAsync(path, cancellationToken);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }

                latencies.Enqueue(Stopwatch.GetElapsedTime(begin).TotalMilliseconds);
            }
        }

        var clients = Enumerable.Range(0, Math.Max(peak, low)).Select(i => Task.Run(() => ClientAsync(i), cancellationToken)).ToArray();
        var rows = new List<(double T, int Clients, int Desired, int Running, int Done, double P50, double P99)>();
        var all = new List<double>();
        while (clock.Elapsed < total)
        {
            await Task.Delay(1000, cancellationToken);
            var second = new List<double>();
            while (latencies.TryDequeue(out var ms))
            {
                second.Add(ms);
            }

            all.AddRange(second);
            var t = clock.Elapsed;
            rows.Add((t.TotalSeconds, ClientsAt(t - TimeSpan.FromMilliseconds(500)), pool.DesiredInstances, pool.RunningInstances, second.Count,
                second.Count == 0 ? double.NaN : Stats.Percentile(second, 50), second.Count == 0 ? double.NaN : Stats.Percentile(second, 99)));
        }

        await Task.WhenAll(clients);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(csvPath))!);
        await File.WriteAllLinesAsync(csvPath,
            ["t_s,clients,desired,running,requests,p50_ms,p99_ms", .. rows.Select(r => string.Create(CultureInfo.InvariantCulture,
                $"{r.T:0.0},{r.Clients},{r.Desired},{r.Running},{r.Done},{r.P50:0.0},{r.P99:0.0}"))], cancellationToken);

        Report.Line("| t, s | clients | instances wanted | instances running | requests in the second | p50 ms | p99 ms |");
        Report.Line("|---|---|---|---|---|---|---|");
        foreach (var r in rows.Where((_, i) => i % 5 == 4))
        {
            Report.Line($"| {Stats.F(r.T, 0)} | {r.Clients} | {r.Desired} | {r.Running} | {r.Done} | {Stats.F(r.P50)} | {Stats.F(r.P99)} |");
        }

        Report.Line("");
        Report.Line($"requests {all.Count}, failed {failures}; latency over the run (median / p95 / max, ms): {Stats.Summary(all)}, p99 {Stats.F(Stats.Percentile(all, 99))}; peak instances running {rows.Max(r => r.Running)}; " +
            $"instances at the end {pool.RunningInstances}; CSV {csvPath}");
        return failures == 0 ? 0 : 1;
    }
}
