using System.Collections.Concurrent;
using System.Diagnostics;
using Berth.Containers;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Bench.EndToEnd;

/// <summary>
/// A rollout of N idle-but-running instances from version 1 to version 2 (both the test app's image; the container label
/// <c>berth.version</c> tells them apart) under a bounded load: a few clients call random instances' <c>GET /hello</c> until
/// the rollout completes (at most --max-seconds). Reports the rollout's total time and the requests that failed.
/// </summary>
internal static class Rollout
{
    public static async Task<int> RunAsync(BenchArgs args, string image, CancellationToken cancellationToken)
    {
        var instances = args.Int("instances", 50);
        var clients = args.Int("clients", 4);
        var maxSeconds = args.Int("max-seconds", 60);
        var instanceType = InstanceType.Parse(args.Get("instance-type", "lite"));
        Report.Title($"rollout of {instances} idle-but-running instances v1 → v2 under {clients} clients (load ≤ {maxSeconds} s; instance type {instanceType.Name})", args);

        var versions = new InMemoryClassVersionStore();
        await versions.RecordAsync(nameof(BenchApp), image, null, "v1", "bench", cancellationToken);
        await versions.RecordAsync(nameof(BenchApp), image, null, "v2", "bench", cancellationToken);
        await versions.SetTrafficAsync(new ClassTraffic(nameof(BenchApp), 1, null, 0), cancellationToken);
        await using var host = await BenchHost.StartAsync(new ClassSettings(image, instanceType, instances + 10, TimeSpan.FromMinutes(30), TimeSpan.FromSeconds(10)), cancellationToken, versions);

        var warm = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, instances), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            using var response = await host.Client.GetAsync($"/c/roll-{i}/hello", ct);
            response.EnsureSuccessStatusCode();
        });
        var running = (await host.ListContainersAsync(cancellationToken)).Count(c => c.State == EngineContainerState.Running);
        Report.Line($"{running} instances running on v1 after {Stats.F(warm.Elapsed.TotalSeconds)} s.");

        var latencies = new ConcurrentBag<double>();
        var failures = new ConcurrentDictionary<string, int>();
        using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stopLoad.CancelAfter(TimeSpan.FromSeconds(maxSeconds));
        var load = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            while (!stopLoad.IsCancellationRequested)
            {
                var begin = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await host.Client.GetAsync($"/c/roll-{random.Next(instances)}/hello", cancellationToken);
                    var body = await response.Content.ReadAsStringAsync(cancellationToken);
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
        }, CancellationToken.None)).ToList();

        var coordinator = host.Services.GetRequiredService<IRolloutCoordinator>();
        var clock = Stopwatch.StartNew();
        await coordinator.StartAsync(new RolloutRequest(nameof(BenchApp), 2), cancellationToken);
        RolloutStatus status;
        var firstStep = TimeSpan.Zero;
        do
        {
            await Task.Delay(100, cancellationToken);
            status = (await coordinator.GetStatusAsync(nameof(BenchApp), cancellationToken))!;
            if (firstStep == TimeSpan.Zero && status.StepIndex >= 1)
            {
                firstStep = clock.Elapsed;
            }
        }
        while (status.State == RolloutStates.Running && clock.Elapsed < TimeSpan.FromMinutes(10));
        var total = clock.Elapsed;
        await stopLoad.CancelAsync();
        await Task.WhenAll(load);

        var containers = await host.ListContainersAsync(cancellationToken);
        var onV1 = containers.Count(c => c.State == EngineContainerState.Running && BerthNames.Label(c.Labels, BerthLabels.Version) == "1");
        var onV2 = containers.Count(c => c.State == EngineContainerState.Running && BerthNames.Label(c.Labels, BerthLabels.Version) == "2");
        var all = latencies.ToList();
        var failed = failures.Values.Sum();
        Report.Line($"Rollout {status.State}: {status.Replaced}/{status.Total} replaced, steps [{string.Join(", ", status.Steps)}]; first step done after {Stats.F(firstStep.TotalSeconds)} s, all after {Stats.F(total.TotalSeconds)} s.");
        Report.Line($"Load during the rollout: {all.Count} requests, {failed} failed ({Stats.F(all.Count == 0 ? 0 : 100.0 * failed / all.Count)} %); latency ms median / p95 / max: {Stats.Summary(all)}.");
        Report.Line($"After it: {onV1} containers running v1 (expected 0), {onV2} running v2 (the instances the load woke again).");
        foreach (var (message, n) in failures.OrderByDescending(f => f.Value).Take(5))
        {
            Report.Line($"FAILED x{n}: {message}");
        }

        return status.State == RolloutStates.Completed && onV1 == 0 && failed == 0 ? 0 : 1;
    }
}
