using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using Berth.Testing;
using Xunit.Abstractions;

namespace Berth.Cluster.Tests;

/// <summary>
/// N real node processes (tests/Berth.Cluster.TestNode, which calls AddBerth) on loopback ports, one data directory each,
/// joined through one PostgreSQL database of their own. Nodes start in parallel; <see cref="StartAsync"/> returns once every
/// node answers HTTP and the membership table lists them all as active.
/// </summary>
public sealed class ClusterHarness : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly ITestOutputHelper _output;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "berth-cluster-tests", Guid.NewGuid().ToString("N"));

    private readonly IReadOnlyDictionary<string, string> _settings;

    private ClusterHarness(TestDatabase database, string appName, ITestOutputHelper output, IReadOnlyDictionary<string, string> settings)
    {
        Database = database;
        AppName = appName;
        _output = output;
        _settings = settings;
    }

    public TestDatabase Database { get; }

    public string AppName { get; }

    public List<ClusterNode> Nodes { get; } = [];

    public static Task<ClusterHarness> StartAsync(ITestOutputHelper output, params string[] locations) =>
        StartAsync(output, new Dictionary<string, string>(), locations);

    /// <summary>Starts one node per location, each with <paramref name="settings"/> as extra command-line configuration.</summary>
    public static async Task<ClusterHarness> StartAsync(ITestOutputHelper output, IReadOnlyDictionary<string, string> settings, params string[] locations)
    {
        var database = await TestDatabase.CreateAsync();
        var harness = new ClusterHarness(database, $"ct{Guid.NewGuid().ToString("N")[..10]}", output, settings);
        try
        {
            var nodes = await Task.WhenAll(locations.Select((location, i) => harness.StartNodeAsync(i, location)));
            harness.Nodes.AddRange(nodes);
            await harness.WaitForMembersAsync(nodes.Length);
            return harness;
        }
        catch
        {
            await harness.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until the membership table lists <paramref name="count"/> active silos (status 3).</summary>
    public async Task WaitForMembersAsync(int count)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var active = await Database.ScalarAsync<long>("SELECT count(*) FROM OrleansMembershipTable WHERE Status = 3");
            if (active == count)
            {
                _output.WriteLine($"{count} active members after {waited.ElapsedMilliseconds} ms more");
                return;
            }

            if (waited.Elapsed > StartTimeout)
            {
                throw new TimeoutException($"{active} active members, expected {count}.{Environment.NewLine}{string.Join(Environment.NewLine, Nodes.Select(n => n.Log))}");
            }

            await Task.Delay(200); // polling PostgreSQL across processes: no push channel
        }
    }

    /// <summary>
    /// Starts node <paramref name="index"/> again on its data directory, so with the same node ID (after <see cref="ClusterNode.KillAsync"/>);
    /// it replaces the old entry in <see cref="Nodes"/>. Returns once it answers HTTP and the membership table lists <paramref name="members"/> active silos.
    /// </summary>
    public async Task<ClusterNode> RestartAsync(int index, int members)
    {
        var node = await StartNodeAsync(index, Nodes[index].Location);
        Nodes[index].Dispose();
        Nodes[index] = node;
        await WaitForMembersAsync(members);
        return node;
    }

    private Task<ClusterNode> StartNodeAsync(int index, string location) =>
        ClusterNode.StartAsync(index, Path.Combine(_root, $"node{index}"), AppName, Database.ConnectionString, location, _output, _settings);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            node.Dispose();
        }

        await Database.DisposeAsync();
        TempDirectory.TryDelete(_root);
    }
}

/// <summary>One node process.</summary>
public sealed class ClusterNode : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log;

    private ClusterNode(Process process, ConcurrentQueue<string> log, string baseUrl, string location, string nodeId)
    {
        _process = process;
        _log = log;
        BaseUrl = baseUrl;
        Location = location;
        NodeId = nodeId;
    }

    public string BaseUrl { get; }

    public string Location { get; }

    public string NodeId { get; }

    public bool IsAlive => !_process.HasExited;

    public string Log => string.Join(Environment.NewLine, _log);

    /// <summary>The path of the node app's assembly, next to the test's own build output.</summary>
    public static string NodePath => typeof(ClusterNode).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TestNodePath").Value!;

    /// <summary>Starts a node process with <paramref name="settings"/> as command-line configuration, without waiting for it.</summary>
    public static (Process Process, ConcurrentQueue<string> Log) Launch(string baseUrl, IEnumerable<KeyValuePair<string, string>> settings)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(NodePath);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(baseUrl);
        foreach (var (key, value) in settings)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        var log = new ConcurrentQueue<string>();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
        process.ErrorDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, log);
    }

    public static async Task<ClusterNode> StartAsync(
        int index, string dataDirectory, string appName, string connection, string location, ITestOutputHelper output, IReadOnlyDictionary<string, string>? settings = null)
    {
        var baseUrl = $"http://127.0.0.1:{BerthTestHost.FreePort()}";
        var (process, log) = Launch(baseUrl, (settings ?? new Dictionary<string, string>()).Concat(new Dictionary<string, string>
        {
            ["Berth:Objects:DataDirectory"] = dataDirectory,
            ["Berth:Containers:AppName"] = appName,
            ["Berth:Cluster:Provider"] = "postgres",
            ["Berth:Cluster:Connection"] = connection,
            ["Berth:Cluster:SiloPort"] = $"{BerthTestHost.FreePort()}",
            ["Berth:Cluster:GatewayPort"] = $"{BerthTestHost.FreePort()}",
            ["Berth:Cluster:AdvertiseAddress"] = "127.0.0.1",
            ["Berth:Cluster:Location"] = location,
        }));

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(90) && !process.HasExited)
        {
            try
            {
                var response = await http.GetAsync($"{baseUrl}/health");
                if (response.IsSuccessStatusCode)
                {
                    var nodeId = await response.Content.ReadAsStringAsync();
                    output.WriteLine($"node {index} ({location}) {nodeId} ready in {waited.ElapsedMilliseconds} ms at {baseUrl}");
                    return new ClusterNode(process, log, baseUrl, location, nodeId);
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200); // polling another process's HTTP port
        }

        if (!process.HasExited)
        {
            process.Kill();
        }

        throw new InvalidOperationException($"Node {index} did not become ready:{Environment.NewLine}{string.Join(Environment.NewLine, log)}");
    }

    /// <summary>SIGKILL: no shutdown code runs, the node just vanishes from the cluster.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
