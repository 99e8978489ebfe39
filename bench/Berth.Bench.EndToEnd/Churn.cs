using System.Collections.Concurrent;
using System.Diagnostics;
using Berth.Runtime;

namespace Berth.Bench.EndToEnd;

/// <summary>
/// Sleep/wake churn: IDs with a short SleepAfter, each hit in short bursts separated by random pauses (some
/// longer than SleepAfter), for a bounded time. Counts starts and stops, checks that the engine's list of the
/// app's containers matches what the platform thinks runs, that nothing is left after the last sleep, and
/// samples the platform's memory.
/// </summary>
internal static class Churn
{
    public static async Task<int> RunAsync(BenchArgs args, string image, CancellationToken cancellationToken)
    {
        var ids = args.Int("ids", 10);
        var seconds = args.Int("duration", 60);
        var sleepAfter = TimeSpan.FromMilliseconds(args.Int("sleep-after-ms", 1000));
        var maxPauseMs = args.Int("max-pause-ms", 2500);
        var instanceType = InstanceType.Parse(args.Get("instance-type", "lite"));
        Report.Title($"sleep/wake churn ({ids} IDs, SleepAfter {sleepAfter.TotalMilliseconds} ms, {seconds} s, pauses 0.2–{maxPauseMs / 1000.0} s; instance type {instanceType.Name})", args);

        await using var host = await BenchHost.StartAsync(new ClassSettings(image, instanceType, ids + 10, sleepAfter, TimeSpan.FromSeconds(2)), cancellationToken);
        var latencies = new ConcurrentBag<double>();
        var statuses = new ConcurrentDictionary<int, int>();
        var failures = new ConcurrentDictionary<string, int>();
        var samples = new List<string> { "| t, s | starts | stops | running (engine) | running (platform) | RSS MiB | GC heap MiB | threads | open fds |", "|---|---|---|---|---|---|---|---|---|" };
        var rssSeries = new List<(double T, double Rss, double Heap)>();
        var clock = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(seconds);

        async Task SampleAsync()
        {
            var memory = MemorySample.Take();
            var engine = (await host.ListContainersAsync(cancellationToken)).Count(c => c.State == EngineContainerState.Running);
            var t = clock.Elapsed.TotalSeconds;
            rssSeries.Add((t, memory.RssMiB, memory.GcHeapMiB));
            samples.Add($"| {Stats.F(t, 0)} | {BenchApp.Starts} | {BenchApp.Stops} | {engine} | {host.Leases.RunningCount(nameof(BenchApp))} | {Stats.F(memory.RssMiB)} | {Stats.F(memory.GcHeapMiB)} | {memory.Threads} | {memory.OpenFiles} |");
        }

        var sampler = Task.Run(async () =>
        {
            while (clock.Elapsed < deadline)
            {
                await SampleAsync();
                await Task.Delay(5000, cancellationToken);
            }
        }, cancellationToken);

        var workers = Enumerable.Range(0, ids).Select(i => Task.Run(async () =>
        {
            var random = new Random(i);
            while (clock.Elapsed < deadline)
            {
                var burst = random.Next(1, 6);
                for (var b = 0; b < burst; b++)
                {
                    var begin = Stopwatch.GetTimestamp();
                    try
                    {
                        using var response = await host.Client.GetAsync($"/c/churn-{i}/hello", cancellationToken);
                        var body = await response.Content.ReadAsStringAsync(cancellationToken);
                        statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
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
                }

                await Task.Delay(random.Next(200, maxPauseMs), cancellationToken);
            }
        }, cancellationToken)).ToList();

        await Task.WhenAll(workers);
        await sampler;
        await SampleAsync();
        var loadEnded = clock.Elapsed.TotalSeconds;

        // Consistency: the engine's running containers of this app against the platform's count, at a quiet moment.
        var consistent = "";
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var engine = (await host.ListContainersAsync(cancellationToken)).Count(c => c.State == EngineContainerState.Running);
            var platform = host.Leases.RunningCount(nameof(BenchApp));
            consistent = $"engine {engine}, platform {platform}";
            if (engine == platform)
            {
                consistent += " (equal)";
                break;
            }

            await Task.Delay(100, cancellationToken);
        }

        // Every ID sleeps within SleepAfter + a check period + the stop; wait for the engine's list to empty.
        var drained = Stopwatch.StartNew();
        IReadOnlyList<ContainerSummary> left;
        do
        {
            await Task.Delay(250, cancellationToken);
            left = await host.ListContainersAsync(cancellationToken);
        }
        while (left.Count > 0 && drained.Elapsed < sleepAfter + TimeSpan.FromSeconds(15));
        var drainSeconds = drained.Elapsed.TotalSeconds;
        var afterGc = MemorySample.Take(fullGc: true);

        var all = latencies.ToList();
        var total = all.Count;
        Report.Line($"Requests: {total} ({string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Value} × {s.Key}"))}); latency ms median / p95 / max: {Stats.Summary(all)}; requests slower than 100 ms (they waited for a wake): {all.Count(l => l > 100)}");
        foreach (var (message, n) in failures.OrderByDescending(f => f.Value).Take(5))
        {
            Report.Line($"FAILED x{n}: {message}");
        }

        Report.Line($"Starts {BenchApp.Starts}, stops {BenchApp.Stops}, start errors {BenchApp.Errors} in {Stats.F(loadEnded, 0)} s of load.");
        Report.Line($"At the end of the load: {consistent}.");
        Report.Line($"After the last request: {left.Count} containers of the app left in the engine after {Stats.F(drainSeconds)} s (expected 0); starts − stops = {BenchApp.Starts - BenchApp.Stops}.");
        Report.Line("");
        foreach (var row in samples)
        {
            Report.Line(row);
        }

        var firstHalf = rssSeries.Where(s => s.T < loadEnded / 2 && s.T > 5).Select(s => s.Rss).ToList();
        var secondHalf = rssSeries.Where(s => s.T >= loadEnded / 2).Select(s => s.Rss).ToList();
        Report.Line("");
        Report.Line($"RSS mean, first half (after 5 s) vs second half: {Stats.F(firstHalf.DefaultIfEmpty(double.NaN).Average())} vs {Stats.F(secondHalf.DefaultIfEmpty(double.NaN).Average())} MiB. After the last sleep and a full GC: RSS {Stats.F(afterGc.RssMiB)} MiB, GC heap {Stats.F(afterGc.GcHeapMiB)} MiB, {afterGc.Threads} threads, {afterGc.OpenFiles} fds.");
        foreach (var message in BenchApp.ErrorMessages.Distinct().Take(5))
        {
            Report.Line($"error: {message}");
        }

        return left.Count == 0 ? 0 : 1;
    }
}
