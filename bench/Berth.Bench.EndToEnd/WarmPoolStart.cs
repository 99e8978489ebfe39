using System.Diagnostics;
using Berth.Containers;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Bench.EndToEnd;

/// <summary>
/// Cold start with and without the warm pool, in one run: first request for a fresh ID through the gateway until its
/// response arrived. Without the pool every start is <c>create + start</c>; with it (<c>prewarmed_instances</c>) the first
/// request claims a paused container (unpause). The pool refills between two samples (not counted): this measures the
/// claim, not a pool that ran dry.
/// </summary>
internal static class WarmPoolStart
{
    public static async Task<int> RunAsync(BenchArgs args, string image, CancellationToken cancellationToken)
    {
        var count = args.Int("count", 20);
        var prewarmed = args.Int("prewarmed", 2);
        var instanceType = InstanceType.Parse(args.Get("instance-type", "standard-3"));
        Report.Title($"cold start with and without the warm pool ({count} fresh IDs each, sequentially; prewarmed_instances {prewarmed}; instance type {instanceType.Name})", args);

        var cold = new List<double>();
        await using (var host = await BenchHost.StartAsync(new ClassSettings(image, instanceType, count + 10, TimeSpan.FromMinutes(30), TimeSpan.FromSeconds(2)), cancellationToken))
        {
            await FirstResponseAsync(host, "warmup", cancellationToken);
            for (var i = 0; i < count; i++)
            {
                cold.Add(await FirstResponseAsync(host, $"cold-{i}", cancellationToken));
                await host.Containers.GetByName($"cold-{i}").Object.DestroyAsync(cancellationToken);
                Console.Error.Write('.');
            }
        }

        var warm = new List<double>();
        var unpause = new List<double>();
        var claimed = 0;
        await using (var host = await BenchHost.StartAsync(
            new ClassSettings(image, instanceType, count + prewarmed + 10, TimeSpan.FromMinutes(30), TimeSpan.FromSeconds(2), prewarmed), cancellationToken))
        {
            var pool = host.Services.GetRequiredService<WarmPool>();
            // The pool learns the class's container from the first start on the node.
            await FirstResponseAsync(host, "warmup", cancellationToken);
            for (var i = 0; i < count; i++)
            {
                await pool.WaitForReadyAsync(nameof(BenchApp), prewarmed, cancellationToken);
                var ready = pool.ReadyIds(nameof(BenchApp));
                warm.Add(await FirstResponseAsync(host, $"warm-{i}", cancellationToken));
                var state = await host.Containers.GetByName($"warm-{i}").Object.GetStateAsync(cancellationToken);
                if (state.ContainerId is { } id && ready.Contains(id))
                {
                    claimed++;
                    var name = (await host.Engine.InspectAsync(id, cancellationToken))?.Name ?? id;
                    unpause.AddRange(host.Timing.CallsFor(name).Where(c => c.Operation == "unpause").Select(c => c.Ms));
                }

                await host.Containers.GetByName($"warm-{i}").Object.DestroyAsync(cancellationToken);
                Console.Error.Write('.');
            }
        }

        Console.Error.WriteLine();
        Report.Line($"Sequential, {count} fresh IDs each. ms: median / p95 / max");
        Report.Line("");
        Report.Line("| measure | median / p95 / max, ms |");
        Report.Line("|---|---|");
        Report.Line($"| **cold start without the warm pool** (first request → first response: create + start) | **{Stats.Summary(cold)}** |");
        Report.Line($"| **cold start from the warm pool** (first request → first response: claim + unpause) | **{Stats.Summary(warm)}** |");
        Report.Line($"| of which the engine's unpause call | {(unpause.Count == 0 ? "–" : Stats.Summary(unpause))} |");
        Report.Line($"| starts that claimed a prewarmed container | {claimed} of {count} |");
        Report.Line("");
        return claimed == count ? 0 : 1;
    }

    private static async Task<double> FirstResponseAsync(BenchHost host, string name, CancellationToken cancellationToken)
    {
        var begin = Stopwatch.GetTimestamp();
        using var response = await host.Client.GetAsync($"/c/{name}/hello", cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(begin).TotalMilliseconds;
        if (!response.IsSuccessStatusCode || body != "hello\n")
        {
            throw new InvalidOperationException($"first request of {name}: {(int)response.StatusCode} {body}");
        }

        return elapsed;
    }
}
