using System.Collections.Concurrent;
using System.Diagnostics;
using Berth.Runtime;

namespace Berth.Bench.EndToEnd;

/// <summary>
/// Fan-out: distinct IDs, each with its own running container, started through the gateway with bounded
/// concurrency; platform process memory before and after, time to start them all, and req/s across them
/// (wrk picking a random ID per request).
/// </summary>
internal static class FanOut
{
    public static async Task<int> RunAsync(BenchArgs args, string image, CancellationToken cancellationToken)
    {
        var sizes = args.Get("sizes", "100,500").Split(',').Select(int.Parse).ToArray();
        var concurrency = args.Int("concurrency", 8);
        var seconds = args.Int("duration", 10);
        var connections = args.Int("connections", 32);
        var instanceType = InstanceType.Parse(args.Get("instance-type", "lite"));
        Report.Title($"fan-out ({string.Join(" then ", sizes)} IDs, {concurrency} starts in flight, instance type {instanceType.Name})", args);

        await using var host = await BenchHost.StartAsync(new ClassSettings(image, instanceType, sizes.Max() + 10, TimeSpan.FromMinutes(60), TimeSpan.FromSeconds(2)), cancellationToken);
        var scriptDirectory = Directory.CreateTempSubdirectory("berth-bench-wrk-");
        var started = 0;
        try
        {
            var rows = new List<string>();
            var memoryRows = new List<string> { MemorySample.Header };
            var baseline = MemorySample.Take(fullGc: true);
            memoryRows.Add(baseline.Row("0 containers (host started, after full GC)"));
            var hostBaseline = HostInfo.MemAvailableMiB();
            foreach (var size in sizes)
            {
                var latencies = new ConcurrentBag<double>();
                var failures = new ConcurrentDictionary<string, int>();
                var wall = Stopwatch.StartNew();
                await Parallel.ForEachAsync(Enumerable.Range(started, size - started), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (i, ct) =>
                {
                    var begin = Stopwatch.GetTimestamp();
                    try
                    {
                        using var response = await host.Client.GetAsync($"/c/fan-{i}/hello", ct);
                        var body = await response.Content.ReadAsStringAsync(ct);
                        if (!response.IsSuccessStatusCode)
                        {
                            failures.AddOrUpdate($"{(int)response.StatusCode} {body}", 1, (_, n) => n + 1);
                        }
                    }
                    catch (HttpRequestException ex)
                    {
                        failures.AddOrUpdate(ex.Message, 1, (_, n) => n + 1);
                    }

                    latencies.Add(Stopwatch.GetElapsedTime(begin).TotalMilliseconds);
                });
                var wallSeconds = wall.Elapsed.TotalSeconds;
                var fresh = size - started;
                started = size;

                var running = (await host.ListContainersAsync(cancellationToken)).Count(c => c.State == EngineContainerState.Running);
                if (args.Int("hold-seconds", 0) is > 0 and var hold)
                {
                    Console.Error.WriteLine($"holding {hold} s with {size} containers (pid {Environment.ProcessId})");
                    await Task.Delay(TimeSpan.FromSeconds(hold), cancellationToken);
                }

                await Task.Delay(2000, cancellationToken);
                var raw = MemorySample.Take();
                memoryRows.Add(raw.Row($"{size} containers running, as is"));
                var collected = MemorySample.Take(fullGc: true);
                memoryRows.Add(collected.Row($"{size} containers running, after full GC"));

                var script = Path.Combine(scriptDirectory.FullName, $"random-{size}.lua");
                await File.WriteAllTextAsync(script, $$"""
                    -- Each request goes to one of {{size}} container objects picked at random.
                    math.randomseed(os.time())
                    request = function()
                      return wrk.format("GET", "/c/fan-" .. math.random(0, {{size - 1}}) .. "/hello")
                    end
                    """, cancellationToken);
                var load = await Wrk.RunAsync(host.BaseAddress.ToString().TrimEnd('/'), 1, connections, seconds, script, cancellationToken);
                var afterLoad = MemorySample.Take();
                memoryRows.Add(afterLoad.Row($"{size} containers, after {seconds} s of wrk across them, as is"));

                var proxies = HostInfo.FindProcesses("docker-proxy", "-container-ip");
                var proxyRss = proxies.Sum(HostInfo.ProcessRssMiB);
                var dockerd = HostInfo.FindProcesses("dockerd").Where(p => File.ReadAllText($"/proc/{p}/cmdline").StartsWith("dockerd", StringComparison.Ordinal)).Sum(HostInfo.ProcessRssMiB);

                rows.Add($"| {size} | {fresh} | {running} | {failures.Values.Sum()} | {Stats.F(wallSeconds)} | {Stats.F(fresh / wallSeconds)} | {Stats.Summary(latencies.ToList())} | " +
                         $"{Stats.F(load.RequestsPerSecond, 0)} | {Stats.F(load.P50Ms, 2)} / {Stats.F(load.P99Ms, 2)} | {load.Non2xx + load.SocketErrors} | " +
                         $"{Stats.F(collected.RssMiB)} | {Stats.F((collected.RssMiB - baseline.RssMiB) * 1024 / size, 0)} | {Stats.F((collected.GcHeapMiB - baseline.GcHeapMiB) * 1024 / size, 0)} | " +
                         $"{proxies.Count} / {Stats.F(proxyRss, 0)} | {Stats.F(dockerd, 0)} | {Stats.F(hostBaseline - HostInfo.MemAvailableMiB(), 0)} |");
                foreach (var (message, n) in failures.OrderByDescending(f => f.Value).Take(5))
                {
                    Report.Line($"FAILED x{n}: {message}");
                }

                Report.Line($"wrk: {load.Command}");
                Console.Error.Write('.');
            }

            Console.Error.WriteLine();
            Report.Line("");
            Report.Line("| IDs | newly started | running (engine) | failed | start wall, s | starts/s | first request per ID ms (median / p95 / max) | req/s across IDs | p50 / p99 ms | wrk errors | platform RSS MiB (after GC) | RSS KiB per container | GC heap KiB per container | docker-proxy procs / RSS MiB | dockerd RSS MiB | host memory used since start, MiB |");
            Report.Line("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var row in rows)
            {
                Report.Line(row);
            }

            Report.Line("");
            Report.Line("Platform process memory (this process hosts the silo, driver, objects and gateway; the harness itself adds an HttpClient and lists):");
            Report.Line("");
            foreach (var row in memoryRows)
            {
                Report.Line(row);
            }

            Report.Line("");
            Report.Line($"Hooks: {BenchApp.Starts} starts, {BenchApp.Stops} stops, {BenchApp.Errors} errors. Load: {HostInfo.LoadAverage()}");
            foreach (var message in BenchApp.ErrorMessages.Distinct().Take(5))
            {
                Report.Line($"error: {message}");
            }
        }
        finally
        {
            scriptDirectory.Delete(recursive: true);
            var removal = Stopwatch.StartNew();
            await host.DisposeAsync();
            Report.Line($"Stopping the host and removing {started} containers took {Stats.F(removal.Elapsed.TotalSeconds)} s.");
        }

        return 0;
    }
}
