using System.Diagnostics;
using System.Net.Sockets;
using Berth.Runtime;

namespace Berth.Bench.EndToEnd;

/// <summary>
/// Cold start: first request for a fresh ID through the gateway until its response arrived, interleaved with
/// the same container started straight through the engine (create, start, inspect, port open on the
/// container's address, first response), so the platform's own share is a separate number.
/// </summary>
internal static class ColdStart
{
    private sealed record PlatformSample(double TotalMs, double BeforeEngineMs, double RemoveMs, double CreateMs, double StartMs, double StartToInspectMs, double InspectMs, double AfterInspectMs);

    private sealed record DirectSample(double CreateMs, double StartMs, double InspectMs, double StartToPortMs, double FirstResponseMs)
    {
        public double EngineMs => CreateMs + StartMs;

        public double TotalMs => CreateMs + StartMs + StartToPortMs + FirstResponseMs;
    }

    public static async Task<int> RunAsync(BenchArgs args, string image, CancellationToken cancellationToken)
    {
        var count = args.Int("count", 20);
        var concurrent = args.Int("concurrent", 10);
        var instanceType = InstanceType.Parse(args.Get("instance-type", "standard-3"));
        Report.Title($"cold start ({count} fresh IDs sequentially, {concurrent} at once; instance type {instanceType.Name})", args);

        await using var host = await BenchHost.StartAsync(new ClassSettings(image, instanceType, count + concurrent + 10, TimeSpan.FromMinutes(30), TimeSpan.FromSeconds(2)), cancellationToken);

        // Warm-up, not counted: the first start creates the app's network and JIT-compiles the paths.
        await PlatformAsync(host, "warmup", cancellationToken);
        await DestroyAsync(host, "warmup");
        await RemoveAsync(host, (await DirectAsync(host, "warmup", cancellationToken)).Id);

        var platform = new List<PlatformSample>();
        var direct = new List<DirectSample>();
        for (var i = 0; i < count; i++)
        {
            // Alternate which goes first so drift and ordering effects hit both the same.
            if (i % 2 == 0)
            {
                platform.Add(await PlatformAsync(host, $"cold-{i}", cancellationToken));
                await DestroyAsync(host, $"cold-{i}");
                await Task.Delay(200, cancellationToken);
                var (id, sample) = await DirectAsync(host, $"direct-{i}", cancellationToken);
                direct.Add(sample);
                await RemoveAsync(host, id);
            }
            else
            {
                var (id, sample) = await DirectAsync(host, $"direct-{i}", cancellationToken);
                direct.Add(sample);
                await RemoveAsync(host, id);
                await Task.Delay(200, cancellationToken);
                platform.Add(await PlatformAsync(host, $"cold-{i}", cancellationToken));
                await DestroyAsync(host, $"cold-{i}");
            }

            await Task.Delay(200, cancellationToken);
            Console.Error.Write('.');
        }

        Console.Error.WriteLine();
        var overheadPerPair = platform.Zip(direct, (p, d) => p.TotalMs - (d.EngineMs + d.StartToPortMs)).ToList();
        var engineAndBoot = direct.Select(d => d.EngineMs + d.StartToPortMs).ToList();

        Report.Line($"Sequential, {count} samples each, interleaved. ms: median / p95 / max");
        Report.Line("");
        Report.Line("| measure | median / p95 / max, ms |");
        Report.Line("|---|---|");
        Report.Line($"| **cold start through the gateway** (first request → first response) | **{Stats.Summary(platform.Select(p => p.TotalMs).ToList())}** |");
        Report.Line($"| engine create + start, direct | {Stats.Summary(direct.Select(d => d.EngineMs).ToList())} |");
        Report.Line($"| app boot, direct (start returned → port open on the container's address, incl. one inspect) | {Stats.Summary(direct.Select(d => d.StartToPortMs).ToList())} |");
        Report.Line($"| engine create + start + app boot, direct | {Stats.Summary(engineAndBoot)} |");
        Report.Line($"| first response once the port is open, direct (new connection) | {Stats.Summary(direct.Select(d => d.FirstResponseMs).ToList())} |");
        Report.Line($"| **platform overhead** = cold start − (engine create+start + app boot), per interleaved pair | **{Stats.Summary(overheadPerPair)}** |");
        Report.Line($"| platform overhead as difference of medians | {Stats.F(Stats.Median(platform.Select(p => p.TotalMs).ToList()) - Stats.Median(engineAndBoot))} |");
        // The engine's start time swings by hundreds of ms between two starts on a loaded 2-core host, so the
        // subtraction above is noisy. The same split without that noise: take out the engine calls timed inside
        // the very same cold start, and compare what remains with the direct path's boot + first response.
        var nonEngine = platform.Select(p => p.TotalMs - p.RemoveMs - p.CreateMs - p.StartMs - p.InspectMs).ToList();
        var directAfterInspect = direct.Select(d => d.StartToPortMs - d.InspectMs + d.FirstResponseMs).ToList();
        Report.Line($"| cold start minus its own engine calls (remove, create, start, inspect: timed inside the platform) | {Stats.Summary(nonEngine)} |");
        Report.Line($"| direct: app boot after inspect (port polled every 1 ms) + first response | {Stats.Summary(directAfterInspect)} |");
        Report.Line($"| **platform overhead, engine noise removed** = median of the first − median of the second | **{Stats.F(Stats.Median(nonEngine) - Stats.Median(directAfterInspect))}** |");
        Report.Line("");
        Report.Line("Where the platform's cold start goes (engine calls timed inside the platform by a wrapper around its IContainerRuntime):");
        Report.Line("");
        Report.Line("| step | median / p95 / max, ms |");
        Report.Line("|---|---|");
        Report.Line($"| request in → first engine call (routing, object activation, storage open, status write) | {Stats.Summary(platform.Select(p => p.BeforeEngineMs).ToList())} |");
        Report.Line($"| remove-by-name of a leftover (engine call; 0 when the platform skips it) | {Stats.Summary(platform.Select(p => p.RemoveMs).ToList())} |");
        Report.Line($"| create (engine call) | {Stats.Summary(platform.Select(p => p.CreateMs).ToList())} |");
        Report.Line($"| start (engine call) | {Stats.Summary(platform.Select(p => p.StartMs).ToList())} |");
        Report.Line($"| start returned → inspect begins (status write, monitor, lease, hooks) | {Stats.Summary(platform.Select(p => p.StartToInspectMs).ToList())} |");
        Report.Line($"| inspect (engine call, for the address) | {Stats.Summary(platform.Select(p => p.InspectMs).ToList())} |");
        Report.Line($"| inspect returned → response (port polling every PollInterval, forward, response) | {Stats.Summary(platform.Select(p => p.AfterInspectMs).ToList())} |");
        Report.Line($"| for comparison, direct: inspect | {Stats.Summary(direct.Select(d => d.InspectMs).ToList())} |");
        Report.Line($"| for comparison, direct: inspect returned → port open (polled every 1 ms) + first response | {Stats.Summary(direct.Select(d => d.StartToPortMs - d.InspectMs + d.FirstResponseMs).ToList())} |");
        Report.Line("");

        // Concurrency: many fresh IDs at once, then as many direct starts at once.
        var wall = Stopwatch.StartNew();
        var concurrentPlatform = await Task.WhenAll(Enumerable.Range(0, concurrent).Select(j => PlatformAsync(host, $"burst-{j}", cancellationToken)));
        var platformWall = wall.Elapsed.TotalMilliseconds;
        await Task.WhenAll(Enumerable.Range(0, concurrent).Select(j => DestroyAsync(host, $"burst-{j}")));
        await Task.Delay(500, cancellationToken);
        wall.Restart();
        var concurrentDirect = await Task.WhenAll(Enumerable.Range(0, concurrent).Select(j => DirectAsync(host, $"dburst-{j}", cancellationToken)));
        var directWall = wall.Elapsed.TotalMilliseconds;
        await Task.WhenAll(concurrentDirect.Select(d => RemoveAsync(host, d.Id)));

        Report.Line($"{concurrent} fresh IDs at once (one burst). ms: median / p95 / max, and wall time for all");
        Report.Line("");
        Report.Line("| measure | median / p95 / max, ms | wall, ms |");
        Report.Line("|---|---|---|");
        Report.Line($"| cold start through the gateway | {Stats.Summary(concurrentPlatform.Select(p => p.TotalMs).ToList())} | {Stats.F(platformWall)} |");
        Report.Line($"| direct: create + start + boot + first response | {Stats.Summary(concurrentDirect.Select(d => d.Sample.TotalMs).ToList())} | {Stats.F(directWall)} |");
        Report.Line($"| direct: engine create + start | {Stats.Summary(concurrentDirect.Select(d => d.Sample.EngineMs).ToList())} | |");
        Report.Line($"| platform, of which create + start (engine calls) | {Stats.Summary(concurrentPlatform.Select(p => p.CreateMs + p.StartMs).ToList())} | |");
        Report.Line("");
        Report.Line($"Hooks: {BenchApp.Starts} starts, {BenchApp.Stops} stops, {BenchApp.Errors} errors.");
        return 0;
    }

    private static async Task<PlatformSample> PlatformAsync(BenchHost host, string name, CancellationToken cancellationToken)
    {
        var begin = Stopwatch.GetTimestamp();
        using var response = await host.Client.GetAsync($"/c/{name}/hello", cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var end = Stopwatch.GetTimestamp();
        if (!response.IsSuccessStatusCode || body != "hello\n")
        {
            throw new InvalidOperationException($"cold start of {name}: {(int)response.StatusCode} {body}");
        }

        var calls = host.Timing.CallsFor(host.ContainerNameFor(name));
        if (calls.Count == 0 || !calls.Any(c => c.Operation == "inspect"))
        {
            throw new InvalidOperationException($"no engine calls recorded for {host.ContainerNameFor(name)}; recorded: {string.Join(", ", host.Timing.AllNames().Take(20))}");
        }

        var remove = calls.FirstOrDefault(c => c.Operation == "remove");
        var create = calls.First(c => c.Operation == "create");
        var start = calls.First(c => c.Operation == "start");
        var inspect = calls.First(c => c.Operation == "inspect" && c.Begin >= start.End);
        var first = calls[0];
        return new PlatformSample(
            Ms(begin, end),
            Ms(begin, first.Begin),
            remove?.Ms ?? 0,
            create.Ms,
            start.Ms,
            Ms(start.End, inspect.Begin),
            inspect.Ms,
            Ms(inspect.End, end));
    }

    private static async Task<(string Id, DirectSample Sample)> DirectAsync(BenchHost host, string name, CancellationToken cancellationToken)
    {
        var engine = host.Engine;
        var spec = new ContainerSpec
        {
            Name = $"berth-{host.AppName}-direct-{name}",
            Image = host.Settings.Image,
            Environment = new Dictionary<string, string>(BenchHost.AppEnvironment)
            {
                ["BERTH_OBJECT_ID"] = name,
                ["BERTH_CLASS"] = "Direct",
                ["BERTH_APP"] = host.AppName,
                ["BERTH_NODE"] = Environment.MachineName,
                ["BERTH_LOCATION"] = "local",
                ["BERTH_REGION"] = "local",
            },
            Labels = host.DirectLabels("Direct"),
            Ports = [8080],
            InstanceType = host.Settings.InstanceType,
            Network = host.Network,
        };

        var t0 = Stopwatch.GetTimestamp();
        var id = await engine.CreateAsync(spec, cancellationToken);
        var t1 = Stopwatch.GetTimestamp();
        await engine.StartAsync(id, cancellationToken);
        var t2 = Stopwatch.GetTimestamp();
        var status = await engine.InspectAsync(id, cancellationToken) ?? throw new InvalidOperationException($"{id} vanished");
        var t3 = Stopwatch.GetTimestamp();
        var ip = status.IpAddress ?? throw new InvalidOperationException($"{id} has no address");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await CanConnectAsync(ip, 8080, cancellationToken))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"direct container {name} never listened");
            }

            await Task.Delay(1, cancellationToken);
        }

        var t4 = Stopwatch.GetTimestamp();
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        var body = await client.GetStringAsync($"http://{ip}:8080/hello", cancellationToken);
        var t5 = Stopwatch.GetTimestamp();
        if (body != "hello\n")
        {
            throw new InvalidOperationException($"direct {name}: {body}");
        }

        return (id, new DirectSample(Ms(t0, t1), Ms(t1, t2), Ms(t2, t3), Ms(t2, t4), Ms(t4, t5)));
    }

    private static async Task<bool> CanConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await socket.ConnectAsync(host, port, attempt.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private static Task DestroyAsync(BenchHost host, string name) => host.Containers.GetByName(name).Object.DestroyAsync();

    private static Task RemoveAsync(BenchHost host, string id) => host.Engine.RemoveAsync(id);

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}
