using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using Berth;
using Berth.Bench.Cluster;
using Berth.Docker;
using Berth.Testing;

// Cluster benchmark (issue 16): 3 node processes of tests/Berth.Cluster.TestNode on loopback ports with a fresh PostgreSQL
// database, dropped at the end. Scenarios run in this order on one cluster (failover last: it kills nodes):
//   rpc            GET /probe/{name} through the node hosting the object vs through another node
//   container-hop  GET /c/{name}/hello (the test app container) through the hosting node vs another node (direct to the
//                  container's address) vs a 4th node started with Berth:Cluster:Forwarding=node (through the hosting node's gateway)
//   --tls true     every node with Berth:Cluster:Tls (certificates from scripts/cluster-certs.sh) and, as TLS between nodes
//                  wants, Forwarding=node with a hop listener (HopUrl): the cross-node Orleans call over mutual TLS, and in
//                  container-hop "another node" is the hop over HTTPS (docs/cluster.md, "TLS between nodes")
//   failover       kill -9 the node hosting an object, poll a survivor until it serves the object's value; N rounds
// usage: Berth.Bench.Cluster [rpc] [container-hop] [failover] [--requests 2000] [--warmup 200] [--kills 10] [--node PATH] [--tls true]
var scenarios = args.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
if (scenarios.Contains("-h") || scenarios.Contains("help") || scenarios.Except(["rpc", "container-hop", "failover", "all"]).Any())
{
    Console.WriteLine("usage: Berth.Bench.Cluster [rpc] [container-hop] [failover] [--requests 2000] [--warmup 200] [--kills 10] [--node PATH] [--tls true]");
    return scenarios.Contains("-h") || scenarios.Contains("help") ? 0 : 2;
}

if (scenarios.Count == 0 || scenarios.Contains("all"))
{
    scenarios = ["rpc", "container-hop", "failover"];
}

var options = args.SkipWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).Chunk(2)
    .ToDictionary(pair => pair[0][2..], pair => pair.Length > 1 ? pair[1] : throw new ArgumentException($"{pair[0]} needs a value"), StringComparer.Ordinal);
var requests = int.Parse(options.GetValueOrDefault("requests", "2000"), CultureInfo.InvariantCulture);
var warmup = int.Parse(options.GetValueOrDefault("warmup", "200"), CultureInfo.InvariantCulture);
var kills = int.Parse(options.GetValueOrDefault("kills", "10"), CultureInfo.InvariantCulture);
var nodePath = options.GetValueOrDefault("node")
    ?? typeof(ClusterBench).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TestNodePath").Value!;
if (!File.Exists(nodePath))
{
    Console.Error.WriteLine($"The node app is not at {nodePath}: build tests/Berth.Cluster.TestNode in the same configuration, or pass --node.");
    return 2;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    Console.Error.WriteLine("cancelling: killing the nodes, removing their containers, dropping the database…");
    cancellation.Cancel();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    cancellation.Cancel();
});

Console.WriteLine($"Cluster benchmark: {string.Join(", ", scenarios)}; {Environment.ProcessorCount} cores, .NET {Environment.Version}, " +
    $"load average {File.ReadAllText("/proc/loadavg").Trim()}, started {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
Console.WriteLine($"command: dotnet run -c Release --project bench/Berth.Bench.Cluster -- {string.Join(' ', args)}");

using var engine = new DockerContainerRuntime(new DockerRuntimeOptions());
await engine.PingAsync(cancellation.Token);
// Leftovers of earlier benchmark or test processes that died (never another live process's resources).
await TestResources.CleanupAsync(engine, cancellationToken: cancellation.Token);
var image = (await TestImages.EnsureBuiltAsync(engine, cancellation.Token)).App;

// Every node labels its containers and networks as this process's test resources, so a run that dies leaves nothing
// that the next run's cleanup would not remove.
var settings = new Dictionary<string, string> { ["Probe:Image"] = image };
foreach (var (key, value) in TestResources.Labels())
{
    settings[$"Berth:Containers:ExtraLabels:{key}"] = value;
}

var tls = bool.Parse(options.GetValueOrDefault("tls", "false"));
var certificates = Path.Combine(Path.GetTempPath(), "berth-bench-cluster-tls", Guid.NewGuid().ToString("N"));
Func<int, IReadOnlyDictionary<string, string>>? nodeSettings = null;
if (tls)
{
    // Four nodes' certificates (a, b, c and container-hop's 4th), made as docs/cluster.md says, and a hop port each.
    var script = typeof(ClusterBench).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "CertificateScript").Value!;
    using (var openssl = Process.Start("bash", [script, certificates, "node0", "node1", "node2", "node3"]))
    {
        await openssl.WaitForExitAsync(cancellation.Token);
        if (openssl.ExitCode != 0)
        {
            Console.Error.WriteLine($"{script} failed with exit code {openssl.ExitCode}");
            return 1;
        }
    }

    settings["Berth:Cluster:Tls:CaPath"] = Path.Combine(certificates, "ca.pem");
    settings["Berth:Cluster:Forwarding"] = "node";
    var hopPorts = Enumerable.Range(0, 4).Select(_ => BerthTestHost.FreePort()).ToArray();
    nodeSettings = i => new Dictionary<string, string>
    {
        ["Berth:Cluster:Tls:CertificatePath"] = Path.Combine(certificates, $"node{i}.pem"),
        ["Berth:Cluster:Tls:KeyPath"] = Path.Combine(certificates, $"node{i}.key"),
        ["Berth:Cluster:HopUrl"] = $"https://127.0.0.1:{hopPorts[i]}",
    };
    Console.WriteLine($"TLS between nodes: certificates in {certificates}, every node forwards through the hosting node's hop listener");
}

var started = Stopwatch.StartNew();
var cluster = await ClusterHarness.StartAsync(nodePath, Console.WriteLine, settings, nodeSettings, ["a", "b", "c"], cancellation.Token);
Console.WriteLine($"3 nodes up and members in {started.ElapsedMilliseconds} ms");
try
{
    using var bench = new ClusterBench(cluster, engine, nodePath, settings, nodeSettings, requests, warmup, cancellation.Token);
    if (scenarios.Contains("rpc"))
    {
        await bench.RpcAsync();
    }

    if (scenarios.Contains("container-hop"))
    {
        await bench.ContainerHopAsync();
    }

    if (scenarios.Contains("failover"))
    {
        await bench.FailoverAsync(kills);
    }
}
finally
{
    await cluster.DisposeAsync();
    await BerthTestHost.RemoveAppResourcesAsync(engine, cluster.AppName);
    Console.WriteLine($"done in {started.Elapsed.TotalSeconds:F0} s");
    if (Directory.Exists(certificates))
    {
        Directory.Delete(certificates, recursive: true);
    }
}

return 0;

namespace Berth.Bench.Cluster
{
    /// <summary>The scenarios, on one running cluster.</summary>
    internal sealed class ClusterBench(
        ClusterHarness cluster, DockerContainerRuntime engine, string nodePath, IReadOnlyDictionary<string, string> settings,
        Func<int, IReadOnlyDictionary<string, string>>? nodeSettings, int requests, int warmup, CancellationToken cancellationToken)
        : IDisposable
    {
        private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
        private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

        private sealed record ProbeAnswer(string Node, string Activation, long Calls);

        public void Dispose() => _http.Dispose();

        /// <summary>One object's HitAsync through its hosting node vs through another node: the difference is Orleans' cross-node call.</summary>
        public async Task RpcAsync()
        {
            var host = cluster.Nodes[0];
            var other = cluster.Nodes[1];
            const string Name = "bench-rpc";
            var first = await GetProbeAsync(host, Name);
            Require(first.Node == host.NodeId, $"{Name} landed on {first.Node}, not on {host.NodeId} that received its first call");

            var (viaHost, viaOther) = await CompareAsync(host, other, $"/probe/{Name}", body =>
            {
                var answer = JsonSerializer.Deserialize<ProbeAnswer>(body, Json);
                Require(answer?.Node == host.NodeId, $"{Name} answered from {answer?.Node}: it moved during the run");
            });
            Print($"RPC: GET /probe/{{name}} → IClusterProbe.HitAsync, {requests} sequential requests per path after {warmup} warm-up each, interleaved",
                $"through the hosting node ({host.Location})", viaHost, $"through another node ({other.Location}): + Orleans call across nodes", viaOther);
        }

        /// <summary>A request to a container through the node hosting its object vs through another node, which forwards straight to the container's address.</summary>
        public async Task ContainerHopAsync()
        {
            var host = cluster.Nodes[0];
            var other = cluster.Nodes[1];
            const string Name = "bench-hop";
            var cold = Stopwatch.StartNew();
            using (var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(120)))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(attempt.Token, cancellationToken))
            {
                using var response = await _http.GetAsync($"{host.BaseUrl}/c/{Name}/hello", linked.Token);
                Require(response.IsSuccessStatusCode, $"first request to the container: {(int)response.StatusCode}");
            }

            Console.WriteLine($"container started through node {host.Location} in {cold.ElapsedMilliseconds} ms");
            var hosting = new List<string>();
            foreach (var node in cluster.Nodes)
            {
                if ((await engine.ListAsync(BerthNames.ForNode(cluster.AppName, node.NodeId), cancellationToken)).Count > 0)
                {
                    hosting.Add(node.NodeId);
                }
            }

            Require(hosting.SequenceEqual([host.NodeId]), $"containers on nodes [{string.Join(", ", hosting)}], expected only on {host.NodeId}");

            // A 4th node that forwards through the hosting node's gateway (Berth:Cluster:Forwarding = node); a, b and c forward
            // directly. Removed afterwards (kill, then membership back to 3), so the failover scenario sees the usual cluster.
            var viaNodeSettings = new Dictionary<string, string>(settings) { ["Berth:Cluster:Forwarding"] = "node" };
            foreach (var (key, value) in nodeSettings?.Invoke(cluster.Nodes.Count) ?? new Dictionary<string, string>())
            {
                viaNodeSettings[key] = value;
            }

            var dataDirectory = Path.Combine(Path.GetTempPath(), "berth-bench-cluster", Guid.NewGuid().ToString("N"));
            using var hopper = await ClusterNode.StartAsync(nodePath, cluster.Nodes.Count, dataDirectory, cluster.AppName, cluster.Database.ConnectionString, "d",
                Console.WriteLine, viaNodeSettings, cancellationToken);
            try
            {
                await cluster.WaitForMembersAsync(cluster.Nodes.Count + 1, cancellationToken);
                var samples = await CompareAsync([host, other, hopper], $"/c/{Name}/hello", body => Require(body == "hello\n", $"container answered '{body}'"));
                Print($"Container: GET /c/{{name}}/hello → the test app container, {requests} sequential requests per path after {warmup} warm-up each, interleaved",
                    [$"through the hosting node ({host.Location}): local lease, forward", nodeSettings is null
                        ? $"through another node ({other.Location}), forwarding direct: asks the object across nodes, forwards to the container's address"
                        : $"through another node ({other.Location}), forwarding node over TLS: asks the object across nodes (mutual TLS), forwards through {host.Location}'s hop listener (HTTPS)",
                        $"through another node ({hopper.Location}), forwarding node: asks the object across nodes, forwards through {host.Location}'s gateway"],
                    samples);
            }
            finally
            {
                await hopper.KillAsync();
                await cluster.WaitForMembersAsync(cluster.Nodes.Count, cancellationToken);
                Directory.Delete(dataDirectory, recursive: true);
            }
        }

        /// <summary>Per round: write a key, kill -9 the object's node, poll a survivor until it serves the value; restart the node.</summary>
        public async Task FailoverAsync(int kills)
        {
            var rows = new List<(int Round, string Victim, long DeadMs, long FirstSuccessMs, int Attempts, string ServedBy)>();
            for (var round = 0; round < kills; round++)
            {
                var victimIndex = round % cluster.Nodes.Count;
                var victim = cluster.Nodes[victimIndex];
                var survivor = cluster.Nodes[(victimIndex + 1) % cluster.Nodes.Count];
                var name = $"failover-{round}";
                var value = Guid.NewGuid().ToString("N");
                using (var put = await _http.PutAsync($"{victim.BaseUrl}/objects/{name}/kv/k", new StringContent(value), cancellationToken))
                {
                    Require(put.IsSuccessStatusCode, $"put through {victim.Location}: {(int)put.StatusCode}");
                }

                var before = await GetProbeAsync(victim, name);
                Require(before.Node == victim.NodeId, $"{name} landed on {before.Node}, not on {victim.NodeId}");

                await victim.KillAsync();
                var clock = Stopwatch.StartNew();
                var dead = cluster.WaitForMembersAsync(cluster.Nodes.Count - 1, cancellationToken);
                var (firstSuccessMs, attempts) = await PollUntilServedAsync(survivor, name, value, clock);
                var deadMs = (long)(await dead).TotalMilliseconds;
                var after = await GetProbeAsync(survivor, name);
                Require(after.Node != victim.NodeId, $"{name} still answered by the killed node {victim.NodeId}");
                var servedBy = cluster.Nodes.Single(n => n.NodeId == after.Node).Location;
                rows.Add((round + 1, victim.Location, deadMs, firstSuccessMs, attempts, servedBy));
                Console.WriteLine($"round {round + 1}: killed {victim.Location}, membership marked it dead after {deadMs} ms, " +
                    $"first success through {survivor.Location} after {firstSuccessMs} ms ({attempts} attempts started), now on {servedBy}");

                await cluster.RestartNodeAsync(victimIndex, cancellationToken);
                await cluster.WaitForMembersAsync(cluster.Nodes.Count, cancellationToken);
            }

            Console.WriteLine();
            Console.WriteLine($"Failover: kill -9 of the node hosting an object → first GET of its value through a survivor, {kills} rounds (a new attempt every 100 ms)");
            Console.WriteLine();
            Console.WriteLine("| round | killed node | kill → membership marks it dead, ms (±100) | kill → first success, ms | attempts started | object now on |");
            Console.WriteLine("|---|---|---:|---:|---:|---|");
            foreach (var row in rows)
            {
                Console.WriteLine($"| {row.Round} | {row.Victim} | {row.DeadMs:N0} | {row.FirstSuccessMs:N0} | {row.Attempts} | {row.ServedBy} |");
            }

            var times = rows.Select(r => (double)r.FirstSuccessMs).Order().ToArray();
            var deaths = rows.Select(r => (double)r.DeadMs).Order().ToArray();
            Console.WriteLine();
            Console.WriteLine("| kill → … (ms) | min | median | max |");
            Console.WriteLine("|---|---:|---:|---:|");
            Console.WriteLine($"| first success | {times[0]:N0} | {Median(times):N0} | {times[^1]:N0} |");
            Console.WriteLine($"| membership marks it dead | {deaths[0]:N0} | {Median(deaths):N0} | {deaths[^1]:N0} |");
            Console.WriteLine();
        }

        /// <summary>
        /// Warm-up, then <c>requests</c> sequential requests per path, host and other interleaved (ABBA…) so that the load
        /// of the shared machine falls on both alike. Each answer is checked after its time is taken.
        /// </summary>
        private async Task<(double[] ViaHost, double[] ViaOther)> CompareAsync(ClusterNode host, ClusterNode other, string path, Action<string> check)
        {
            var samples = await CompareAsync([host, other], path, check);
            return (samples[0], samples[1]);
        }

        /// <summary>
        /// The same request through each node, interleaved: round i starts at node i mod N (a, b, c, then b, c, a, …), so the
        /// shared machine's load falls on every path alike. Returns each node's sorted times, ms.
        /// </summary>
        private async Task<double[][]> CompareAsync(ClusterNode[] nodes, string path, Action<string> check)
        {
            for (var i = 0; i < warmup; i++)
            {
                foreach (var node in nodes)
                {
                    check(await GetAsync(node, path));
                }
            }

            var samples = nodes.Select(_ => new double[requests]).ToArray();
            for (var i = 0; i < requests; i++)
            {
                for (var k = 0; k < nodes.Length; k++)
                {
                    var n = (i + k) % nodes.Length;
                    samples[n][i] = await TimeAsync(nodes[n], path, check);
                }
            }

            foreach (var times in samples)
            {
                Array.Sort(times);
            }

            return samples;
        }

        private async Task<double> TimeAsync(ClusterNode node, string path, Action<string> check)
        {
            var started = Stopwatch.GetTimestamp();
            var body = await GetAsync(node, path);
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            check(body);
            return ms;
        }

        private async Task<string> GetAsync(ClusterNode node, string path)
        {
            using var response = await _http.GetAsync($"{node.BaseUrl}{path}", cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            Require(response.IsSuccessStatusCode, $"GET {path} through {node.Location}: {(int)response.StatusCode} {body}");
            return body;
        }

        private async Task<ProbeAnswer> GetProbeAsync(ClusterNode node, string name) =>
            JsonSerializer.Deserialize<ProbeAnswer>(await GetAsync(node, $"/probe/{name}"), Json) ?? throw new InvalidOperationException("empty probe answer");

        /// <summary>
        /// Starts a GET every 100 ms (each may take up to 10 s: one stuck on the dead node must not delay the next) until
        /// one answers 200 with <paramref name="value"/>; returns when that happened on <paramref name="clock"/>. Gives up after 60 s.
        /// </summary>
        private async Task<(long Ms, int Attempts)> PollUntilServedAsync(ClusterNode survivor, string name, string value, Stopwatch clock)
        {
            using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var success = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            var inFlight = new List<Task>();
            var attempts = 0;
            while (!success.Task.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                attempts++;
                inFlight.Add(AttemptAsync());
                await Task.WhenAny(success.Task, Task.Delay(100, cancellationToken));
            }

            done.Cancel();
            await Task.WhenAll(inFlight);
            Require(success.Task.IsCompleted, $"{name} was not served through {survivor.Location} within 60 s of the kill");
            return (await success.Task, attempts);

            async Task AttemptAsync()
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(done.Token);
                    timeout.CancelAfter(TimeSpan.FromSeconds(10));
                    using var response = await _http.GetAsync($"{survivor.BaseUrl}/objects/{name}/kv/k", timeout.Token);
                    if (response.IsSuccessStatusCode && await response.Content.ReadAsStringAsync(timeout.Token) == value)
                    {
                        success.TrySetResult(clock.ElapsedMilliseconds);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
                {
                }
            }
        }

        private void Print(string title, string hostLabel, double[] viaHost, string otherLabel, double[] viaOther)
        {
            Console.WriteLine();
            Console.WriteLine(title);
            Console.WriteLine();
            Console.WriteLine("| path | p50 ms | p90 ms | p99 ms | mean ms |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            Console.WriteLine($"| {hostLabel} | {Percentile(viaHost, 50):F3} | {Percentile(viaHost, 90):F3} | {Percentile(viaHost, 99):F3} | {viaHost.Average():F3} |");
            Console.WriteLine($"| {otherLabel} | {Percentile(viaOther, 50):F3} | {Percentile(viaOther, 90):F3} | {Percentile(viaOther, 99):F3} | {viaOther.Average():F3} |");
            Console.WriteLine($"| difference (other − hosting) | {Percentile(viaOther, 50) - Percentile(viaHost, 50):F3} | {Percentile(viaOther, 90) - Percentile(viaHost, 90):F3} | " +
                $"{Percentile(viaOther, 99) - Percentile(viaHost, 99):F3} | {viaOther.Average() - viaHost.Average():F3} |");
            Console.WriteLine();
        }

        private static void Print(string title, string[] labels, double[][] samples)
        {
            Console.WriteLine();
            Console.WriteLine(title);
            Console.WriteLine();
            Console.WriteLine("| path | p50 ms | p90 ms | p99 ms | mean ms | p50 − first's |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            for (var i = 0; i < labels.Length; i++)
            {
                var s = samples[i];
                Console.WriteLine($"| {labels[i]} | {Percentile(s, 50):F3} | {Percentile(s, 90):F3} | {Percentile(s, 99):F3} | {s.Average():F3} | {Percentile(s, 50) - Percentile(samples[0], 50):F3} |");
            }

            Console.WriteLine();
        }

        /// <summary>Nearest rank on sorted values.</summary>
        private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];

        /// <summary>The middle value, or the mean of the two middle ones.</summary>
        private static double Median(double[] sorted) => (sorted[(sorted.Length - 1) / 2] + sorted[sorted.Length / 2]) / 2;

        private static void Require(bool condition, string message)
        {
            if (!condition)
            {
                throw new InvalidOperationException(message);
            }
        }
    }
}
