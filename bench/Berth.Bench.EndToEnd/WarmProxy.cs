using System.Globalization;
using Berth.Runtime;

namespace Berth.Bench.EndToEnd;

/// <summary>
/// Warm proxy: one running container, the same wrk load against the gateway, the container's own address,
/// the port Docker published on 127.0.0.1 (docker-proxy) and nginx in front of the same address, rotated
/// within each repetition; medians over the repetitions.
/// </summary>
internal static class WarmProxy
{
    private sealed record Target(string Name, string Url);

    private sealed record Run(string Target, WrkResult Wrk, double ProxyCpuUsPerRequest, double AppCpuUsPerRequest, double HostBusyPercent, long MethodsJitted, double JitMs, double AppConnectionsPer10k, double ProxySwitchesPerRequest, double AppSwitchesPerRequest);

    public static async Task<int> RunAsync(BenchArgs args, string image, CancellationToken cancellationToken)
    {
        var reps = args.Int("reps", 3);
        var seconds = args.Int("duration", 10);
        var connections = args.Int("connections", 32);
        var threads = args.Int("threads", 1);
        var instanceType = InstanceType.Parse(args.Get("instance-type", "standard-3"));
        Report.Title($"warm proxy (wrk -t{threads} -c{connections} -d{seconds}s --latency, {reps} repetitions; instance type {instanceType.Name})", args);

        // The published port (docker-proxy) exists only on the network with a route out.
        BenchApp.InternetEnabled = true;
        await using var host = await BenchHost.StartAsync(new ClassSettings(image, instanceType, 10, TimeSpan.FromMinutes(30), TimeSpan.FromSeconds(2)), cancellationToken);
        using (var first = await host.Client.GetAsync("/c/warm/hello", cancellationToken))
        {
            first.EnsureSuccessStatusCode();
        }

        var container = (await host.ListContainersAsync(cancellationToken)).Single();
        var status = await host.Engine.InspectAsync(container.Id, cancellationToken) ?? throw new InvalidOperationException("container vanished");
        var ip = status.IpAddress!;
        var published = status.Ports[8080];
        await using var nginx = await Nginx.StartAsync($"{ip}:8080", cancellationToken);
        // The app's process, to count the connections it accepts (its network namespace's PassiveOpens).
        var (_, pidText) = await Shell.RunAsync("docker", ["inspect", "-f", "{{.State.Pid}}", container.Id], cancellationToken);
        var appPid = int.TryParse(pidText.Trim(), System.Globalization.CultureInfo.InvariantCulture, out var parsedPid) ? parsedPid : 0;
        var dockerProxy = HostInfo.FindProcesses("docker-proxy", "-host-port " + published.HostPort.ToString(CultureInfo.InvariantCulture)).FirstOrDefault();

        var targets = new[]
        {
            new Target("direct (container address)", $"http://{ip}:8080/hello"),
            new Target("published port (docker-proxy)", $"http://127.0.0.1:{published.HostPort}/hello"),
            new Target("nginx", $"http://127.0.0.1:{nginx.Port}/hello"),
            new Target("gateway", new Uri(host.BaseAddress, "/c/warm/hello").ToString()),
            new Target("plain YARP (same process, no Berth logic)", new Uri(host.BaseAddress, "/yarp/hello").ToString()),
        };
        BenchHost.PlainYarpTarget = $"http://{ip}:8080/";

        // --targets gateway,nginx,… limits the runs (for profiling one of them); the ratios need all four.
        var only = args.GetOrNull("targets")?.Split(',');
        if (only is not null)
        {
            targets = targets.Where(t => only.Any(o => t.Name.StartsWith(o, StringComparison.Ordinal))).ToArray();
        }

        Report.Line($"Gateway process: {HostInfo.RuntimeSettings()}.");
        Report.Line($"Container {container.Id[..12]} at {ip}:8080 on {status.Network}; published on 127.0.0.1:{published.HostPort} (docker-proxy pid {dockerProxy}); nginx master pid {nginx.MasterPid} on 127.0.0.1:{nginx.Port}; gateway on {host.BaseAddress}; load before: {HostInfo.LoadAverage()}");
        Report.Line("");
        Report.Line("nginx.conf:");
        Report.Line("```nginx");
        Report.Line(nginx.Config);
        Report.Line("```");

        // Warm-up: connection pools, nginx upstream keepalive and, above all, the JIT. A fresh .NET process
        // compiles a few thousand methods through its tiers (tier 0, instrumented, tier 1) in the first seconds
        // of load, which on 2 busy cores halves the gateway's throughput for 10–20 s; a long-running gateway is
        // past that. Repeat short loads until one compiles (almost) nothing new, at most 45 s.
        var warmup = System.Diagnostics.Stopwatch.StartNew();
        var warmupRounds = 0;
        while (true)
        {
            var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
            foreach (var target in targets)
            {
                await Wrk.RunAsync(target.Url, threads, connections, 3, null, cancellationToken);
            }

            warmupRounds++;
            var jitted = System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore;
            if (jitted < 50 || warmup.Elapsed > TimeSpan.FromSeconds(45))
            {
                Report.Line($"Warm-up: {warmupRounds} rounds of 3 s per target, {Stats.F(warmup.Elapsed.TotalSeconds, 0)} s; the last round JIT-compiled {jitted} methods in this process.");
                Report.Line("");
                break;
            }
        }

        var runs = new List<Run>();
        for (var rep = 0; rep < reps; rep++)
        {
            for (var k = 0; k < targets.Length; k++)
            {
                var target = targets[(k + rep) % targets.Length];
                var proxyPids = target.Name switch
                {
                    "gateway" or "plain YARP (same process, no Berth logic)" => [Environment.ProcessId],
                    "nginx" => nginx.WorkerPids().ToArray(),
                    "published port (docker-proxy)" => dockerProxy > 0 ? [dockerProxy] : Array.Empty<int>(),
                    _ => Array.Empty<int>(),
                };
                var proxyBefore = proxyPids.Sum(HostInfo.ProcessCpuSeconds);
                var appBefore = HostInfo.ContainerCpuSeconds(container.Id);
                var hostBefore = HostInfo.HostCpu();
                var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
                var jitTimeBefore = System.Runtime.JitInfo.GetCompilationTime();
                var acceptedBefore = appPid > 0 ? HostInfo.PassiveOpens(appPid) : -1;
                var proxySwitchesBefore = proxyPids.Sum(HostInfo.ContextSwitches);
                var appSwitchesBefore = appPid > 0 ? HostInfo.ContextSwitches(appPid) : 0;
                var result = await Wrk.RunAsync(target.Url, threads, connections, seconds, null, cancellationToken);
                var accepted = appPid > 0 ? HostInfo.PassiveOpens(appPid) - acceptedBefore : double.NaN;
                var proxySwitches = proxyPids.Sum(HostInfo.ContextSwitches) - proxySwitchesBefore;
                var appSwitches = appPid > 0 ? HostInfo.ContextSwitches(appPid) - appSwitchesBefore : double.NaN;
                var hostAfter = HostInfo.HostCpu();
                var proxyCpu = proxyPids.Sum(HostInfo.ProcessCpuSeconds) - proxyBefore;
                var appCpu = HostInfo.ContainerCpuSeconds(container.Id) - appBefore;
                runs.Add(new Run(target.Name, result,
                    proxyPids.Length == 0 ? double.NaN : proxyCpu * 1e6 / result.Requests,
                    appCpu * 1e6 / result.Requests,
                    100.0 * (hostAfter.Busy - hostBefore.Busy) / Math.Max(1, hostAfter.Total - hostBefore.Total),
                    System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore,
                    (System.Runtime.JitInfo.GetCompilationTime() - jitTimeBefore).TotalMilliseconds,
                    accepted * 10_000.0 / Math.Max(1, result.Requests),
                    proxyPids.Length == 0 ? double.NaN : (double)proxySwitches / Math.Max(1, result.Requests),
                    appSwitches / Math.Max(1, result.Requests)));
                if (result.Non2xx > 0 || result.SocketErrors > 0)
                {
                    Report.Line($"WARNING {target.Name}: {result.Non2xx} non-2xx, {result.SocketErrors} socket errors");
                }

                Console.Error.Write('.');
                await Task.Delay(1000, cancellationToken);
            }
        }

        Console.Error.WriteLine();
        Report.Line("Every run:");
        Report.Line("");
        Report.Line("| rep | target | req/s | p50 ms | p90 ms | p99 ms | proxy CPU µs/req | app CPU µs/req | connections the app accepted per 10k requests | host busy % | methods JIT-compiled in this process during the run (ms) | proxy / app context switches per request |");
        Report.Line("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (var i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            Report.Line($"| {(i / targets.Length) + 1} | {r.Target} | {Stats.F(r.Wrk.RequestsPerSecond, 0)} | {Stats.F(r.Wrk.P50Ms, 3)} | {Stats.F(r.Wrk.P90Ms, 3)} | {Stats.F(r.Wrk.P99Ms, 3)} | {Stats.F(r.ProxyCpuUsPerRequest)} | {Stats.F(r.AppCpuUsPerRequest)} | {Stats.F(r.AppConnectionsPer10k)} | {Stats.F(r.HostBusyPercent, 0)} | {r.MethodsJitted} ({Stats.F(r.JitMs, 0)}) | {Stats.F(r.ProxySwitchesPerRequest, 2)} / {Stats.F(r.AppSwitchesPerRequest, 2)} |");
        }

        Report.Line("");
        Report.Line($"Medians over {reps} repetitions:");
        Report.Line("");
        Report.Line("| target | req/s | p50 ms | p99 ms | proxy CPU µs/req | app CPU µs/req | proxy / app context switches per request |");
        Report.Line("|---|---|---|---|---|---|---|");
        var medians = new Dictionary<string, (double Rps, double P50, double P99)>();
        foreach (var target in targets)
        {
            var mine = runs.Where(r => r.Target == target.Name).ToList();
            var m = (Stats.Median(mine.Select(r => r.Wrk.RequestsPerSecond).ToList()), Stats.Median(mine.Select(r => r.Wrk.P50Ms).ToList()), Stats.Median(mine.Select(r => r.Wrk.P99Ms).ToList()));
            medians[target.Name] = m;
            Report.Line($"| {target.Name} | {Stats.F(m.Item1, 0)} | {Stats.F(m.Item2, 3)} | {Stats.F(m.Item3, 3)} | {Stats.F(Stats.Median(mine.Select(r => r.ProxyCpuUsPerRequest).ToList()))} | {Stats.F(Stats.Median(mine.Select(r => r.AppCpuUsPerRequest).ToList()))} | {Stats.F(Stats.Median(mine.Select(r => r.ProxySwitchesPerRequest).ToList()), 2)} / {Stats.F(Stats.Median(mine.Select(r => r.AppSwitchesPerRequest).ToList()), 2)} |");
        }

        const string PlainName = "plain YARP (same process, no Berth logic)";
        if (!medians.TryGetValue("gateway", out var gateway) || !medians.TryGetValue("direct (container address)", out var direct)
            || !medians.TryGetValue("nginx", out var ngx) || !medians.TryGetValue(PlainName, out var plain))
        {
            return 0;
        }

        double AppCpu(string name) => Stats.Median(runs.Where(r => r.Target == name).Select(r => r.AppCpuUsPerRequest).ToList());
        Report.Line("");
        Report.Line("| ratio | value | target |");
        Report.Line("|---|---|---|");
        Report.Line($"| gateway / direct req/s | {Stats.F(gateway.Rps / direct.Rps, 2)} | ≥ 0.50 |");
        Report.Line($"| gateway / nginx req/s | {Stats.F(gateway.Rps / ngx.Rps, 2)} | ≥ 0.80 (1.00 the goal) |");
        Report.Line($"| nginx / direct req/s | {Stats.F(ngx.Rps / direct.Rps, 2)} | |");
        if (medians.TryGetValue("published port (docker-proxy)", out var pub))
        {
            Report.Line($"| published (docker-proxy) / direct req/s | {Stats.F(pub.Rps / direct.Rps, 2)} | |");
        }

        Report.Line($"| gateway / plain YARP in the same process req/s | {Stats.F(gateway.Rps / plain.Rps, 2)} | ≥ 0.97 |");
        Report.Line($"| plain YARP / nginx req/s | {Stats.F(plain.Rps / ngx.Rps, 2)} | |");
        Report.Line($"| app CPU per request behind the gateway / behind nginx | {Stats.F(AppCpu("gateway") / AppCpu("nginx"), 2)} | ≤ 1.10 |");
        Report.Line($"| gateway added p50 latency vs direct, ms | {Stats.F(gateway.P50 - direct.P50, 3)} | ≤ 0.5 |");
        Report.Line($"| nginx added p50 latency vs direct, ms | {Stats.F(ngx.P50 - direct.P50, 3)} | |");
        if (pub != default)
        {
            Report.Line($"| docker-proxy added p50 latency vs direct, ms | {Stats.F(pub.P50 - direct.P50, 3)} | |");
        }
        // Added latency without queueing: under 32 connections p50 is mostly queueing (about connections ÷
        // throughput), so the per-hop cost shows best with one connection and one request at a time.
        var unloadedSeconds = args.Int("unloaded-duration", 5);
        var unloaded = new Dictionary<string, WrkResult>();
        foreach (var target in targets)
        {
            unloaded[target.Name] = await Wrk.RunAsync(target.Url, 1, 1, unloadedSeconds, null, cancellationToken);
            await Task.Delay(500, cancellationToken);
        }

        var directOne = unloaded["direct (container address)"];
        Report.Line("");
        Report.Line($"One connection, one request at a time (wrk -t1 -c1 -d{unloadedSeconds}s --latency), once per target:");
        Report.Line("");
        Report.Line("| target | req/s | p50 ms | p99 ms | added p50 vs direct, ms (target for the gateway: ≤ 0.2) |");
        Report.Line("|---|---|---|---|---|");
        foreach (var target in targets)
        {
            var u = unloaded[target.Name];
            Report.Line($"| {target.Name} | {Stats.F(u.RequestsPerSecond, 0)} | {Stats.F(u.P50Ms, 3)} | {Stats.F(u.P99Ms, 3)} | {Stats.F(u.P50Ms - directOne.P50Ms, 3)} |");
        }

        Report.Line("");
        Report.Line("Exact wrk commands (one per target):");
        Report.Line("```sh");
        foreach (var target in targets)
        {
            Report.Line(runs.First(r => r.Target == target.Name).Wrk.Command + $"   # {target.Name}");
        }

        Report.Line("```");
        var memory = MemorySample.Take();
        Report.Line($"Platform process after the load: RSS {Stats.F(memory.RssMiB)} MiB, GC heap {Stats.F(memory.GcHeapMiB)} MiB. Load after: {HostInfo.LoadAverage()}");
        return 0;
    }
}
