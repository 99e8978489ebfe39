using System.Collections.Concurrent;
using System.Diagnostics;

namespace Berth.Testing;

/// <summary>
/// N real node processes (the cluster test node app, which calls AddBerth) on loopback ports, one data directory each,
/// joined through one PostgreSQL database of their own. Nodes start in parallel; <see cref="StartAsync(string, Action{string}, IReadOnlyDictionary{string, string}, IReadOnlyList{string}, CancellationToken)"/> returns once every
/// node answers HTTP and the membership table lists them all as active. Used by the cluster tests and the cluster benchmark.
/// </summary>
public sealed class ClusterHarness : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "berth-cluster-tests", Guid.NewGuid().ToString("N"));
    private readonly string _nodePath;
    private readonly Action<string> _log;
    private readonly IReadOnlyDictionary<string, string> _settings;
    private Func<int, IReadOnlyDictionary<string, string>>? _nodeSettings;

    private ClusterHarness(string nodePath, TestDatabase database, string appName, Action<string> log, IReadOnlyDictionary<string, string> settings)
    {
        _nodePath = nodePath;
        Database = database;
        AppName = appName;
        _log = log;
        _settings = settings;
    }

    /// <summary>The cluster's own PostgreSQL database, dropped on dispose.</summary>
    public TestDatabase Database { get; }

    /// <summary>The app name every node runs as (<c>ct</c> + 10 hex digits), the label of its containers and networks.</summary>
    public string AppName { get; }

    /// <summary>The nodes, in the order of the locations they were started with; <see cref="RestartNodeAsync"/> replaces one in place.</summary>
    public List<ClusterNode> Nodes { get; } = [];

    /// <summary>Starts one node per location in a fresh database (<see cref="TestDatabase.CreateAsync"/>).</summary>
    /// <param name="nodePath">The node app's assembly (<c>Berth.Cluster.TestNode.dll</c>), run with <c>dotnet</c>.</param>
    /// <param name="log">Receives one line per node start and membership wait.</param>
    /// <param name="settings">Extra command-line configuration for every node (<c>--key=value</c>).</param>
    /// <param name="locations">One node per entry, with that <c>Berth:Cluster:Location</c>.</param>
    /// <param name="cancellationToken">Abandons the start; the nodes started so far are killed.</param>
    /// <exception cref="InvalidOperationException">A node exited or did not answer <c>/health</c> within 90 s (its log in the message).</exception>
    /// <exception cref="TimeoutException">The membership table did not list every node as active within 90 s.</exception>
    public static Task<ClusterHarness> StartAsync(
        string nodePath, Action<string> log, IReadOnlyDictionary<string, string> settings, IReadOnlyList<string> locations, CancellationToken cancellationToken = default) =>
        StartAsync(nodePath, log, settings, nodeSettings: null, locations, cancellationToken);

    /// <summary>As the overload without <paramref name="nodeSettings"/>, with node <c>i</c>'s own settings (its certificate, its hop port) over the shared ones.</summary>
    /// <param name="nodePath">The node app's assembly (<c>Berth.Cluster.TestNode.dll</c>), run with <c>dotnet</c>.</param>
    /// <param name="log">Receives one line per node start and membership wait.</param>
    /// <param name="settings">Extra command-line configuration for every node (<c>--key=value</c>).</param>
    /// <param name="nodeSettings">Node <c>i</c>'s own command-line configuration, over <paramref name="settings"/>; also used when it restarts.</param>
    /// <param name="locations">One node per entry, with that <c>Berth:Cluster:Location</c>.</param>
    /// <param name="cancellationToken">Abandons the start; the nodes started so far are killed.</param>
    public static async Task<ClusterHarness> StartAsync(
        string nodePath, Action<string> log, IReadOnlyDictionary<string, string> settings, Func<int, IReadOnlyDictionary<string, string>>? nodeSettings,
        IReadOnlyList<string> locations, CancellationToken cancellationToken = default)
    {
        var database = await TestDatabase.CreateAsync(cancellationToken: cancellationToken);
        var harness = new ClusterHarness(nodePath, database, $"ct{Guid.NewGuid().ToString("N")[..10]}", log, settings) { _nodeSettings = nodeSettings };
        try
        {
            var nodes = await Task.WhenAll(locations.Select((location, i) => harness.StartNodeAsync(i, location, cancellationToken)));
            harness.Nodes.AddRange(nodes);
            await harness.WaitForMembersAsync(nodes.Length, cancellationToken);
            return harness;
        }
        catch
        {
            await harness.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until the membership table lists <paramref name="count"/> active silos (status 3); returns how long that took.</summary>
    /// <remarks>Polls every 100 ms, so the time it returns is late by up to that much.</remarks>
    /// <exception cref="TimeoutException">Not within 90 s.</exception>
    public async Task<TimeSpan> WaitForMembersAsync(int count, CancellationToken cancellationToken = default)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var active = await Database.ScalarAsync<long>("SELECT count(*) FROM OrleansMembershipTable WHERE Status = 3", cancellationToken);
            if (active == count)
            {
                _log($"{count} active members after {waited.ElapsedMilliseconds} ms more");
                return waited.Elapsed;
            }

            if (waited.Elapsed > StartTimeout)
            {
                throw new TimeoutException($"{active} active members, expected {count}.{Environment.NewLine}{string.Join(Environment.NewLine, Nodes.Select(n => n.Log))}");
            }

            await Task.Delay(100, cancellationToken); // polling PostgreSQL across processes: no push channel
        }
    }

    /// <summary>
    /// Replaces node <paramref name="index"/> with a new process on the same data directory (so the same node ID) and
    /// location, on new ports; the old process is killed first if it still runs. Returns once the new one answers HTTP;
    /// wait for membership with <see cref="WaitForMembersAsync"/>.
    /// </summary>
    public async Task<ClusterNode> RestartNodeAsync(int index, CancellationToken cancellationToken = default)
    {
        var old = Nodes[index];
        old.Dispose();
        var node = await StartNodeAsync(index, old.Location, cancellationToken);
        Nodes[index] = node;
        return node;
    }

    private Task<ClusterNode> StartNodeAsync(int index, string location, CancellationToken cancellationToken)
    {
        var settings = _settings;
        if (_nodeSettings is not null)
        {
            var merged = new Dictionary<string, string>(_settings, StringComparer.OrdinalIgnoreCase);
            foreach (var (key, value) in _nodeSettings(index))
            {
                merged[key] = value;
            }

            settings = merged;
        }

        return ClusterNode.StartAsync(_nodePath, index, Path.Combine(_root, $"node{index}"), AppName, Database.ConnectionString, location, _log, settings, cancellationToken);
    }

    /// <summary>Kills every node, drops the database and deletes the data directories.</summary>
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
    private bool _disposed;

    private ClusterNode(Process process, ConcurrentQueue<string> log, string baseUrl, string location, string nodeId)
    {
        _process = process;
        _log = log;
        BaseUrl = baseUrl;
        Location = location;
        NodeId = nodeId;
    }

    /// <summary>The node's HTTP address, <c>http://127.0.0.1:PORT</c>.</summary>
    public string BaseUrl { get; }

    /// <summary>The node's <c>Berth:Cluster:Location</c>.</summary>
    public string Location { get; }

    /// <summary>The node's ID, as its <c>/health</c> answered it.</summary>
    public string NodeId { get; }

    /// <summary>The operating system's ID of the node process.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Whether the process still runs.</summary>
    public bool IsAlive => !_process.HasExited;

    /// <summary>Everything the node wrote to stdout and stderr so far.</summary>
    public string Log => string.Join(Environment.NewLine, _log);

    /// <summary>Starts a node process with <paramref name="settings"/> as command-line configuration, without waiting for it.</summary>
    /// <param name="nodePath">The node app's assembly, run with <c>dotnet</c> (<c>DOTNET_HOST_PATH</c> when set).</param>
    /// <param name="baseUrl">The node's <c>--urls</c>.</param>
    /// <param name="settings">Passed as <c>--key=value</c>.</param>
    public static (Process Process, ConcurrentQueue<string> Log) Launch(string nodePath, string baseUrl, IEnumerable<KeyValuePair<string, string>> settings)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(nodePath);
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

    /// <summary>
    /// Starts a cluster node on free loopback ports (HTTP, silo, gateway) with PostgreSQL membership and returns once its
    /// <c>/health</c> answers (its node ID).
    /// </summary>
    /// <param name="nodePath">The node app's assembly.</param>
    /// <param name="index">The node's number, for the log.</param>
    /// <param name="dataDirectory">Its <c>Berth:Objects:DataDirectory</c>; keeps its node ID across restarts.</param>
    /// <param name="appName">Its <c>Berth:Containers:AppName</c>.</param>
    /// <param name="connection">The cluster's PostgreSQL connection string.</param>
    /// <param name="location">Its <c>Berth:Cluster:Location</c>.</param>
    /// <param name="log">Receives the line that says the node is ready.</param>
    /// <param name="settings">Extra command-line configuration.</param>
    /// <param name="cancellationToken">Abandons the wait; the process is killed.</param>
    /// <exception cref="InvalidOperationException">The node exited or did not answer within 90 s (its log in the message).</exception>
    public static async Task<ClusterNode> StartAsync(
        string nodePath, int index, string dataDirectory, string appName, string connection, string location, Action<string> log,
        IReadOnlyDictionary<string, string>? settings = null, CancellationToken cancellationToken = default)
    {
        var baseUrl = $"http://127.0.0.1:{BerthTestHost.FreePort()}";
        var all = new Dictionary<string, string>(settings ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        // The node's containers and networks carry this test process as their owner: another test assembly's clean-up (which
        // removes unowned test resources created before it started, and unused unowned networks) must leave them alone while
        // this process runs. CI saw it remove a node's new network before its container was created, and running containers.
        foreach (var (key, value) in TestResources.Labels())
        {
            all.TryAdd($"Berth:Containers:ExtraLabels:{key}", value);
        }

        var (process, output) = Launch(nodePath, baseUrl, all.Concat(new Dictionary<string, string>
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

        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var waited = Stopwatch.StartNew();
            while (waited.Elapsed < TimeSpan.FromSeconds(90) && !process.HasExited)
            {
                try
                {
                    var response = await http.GetAsync($"{baseUrl}/health", cancellationToken);
                    if (response.IsSuccessStatusCode)
                    {
                        var nodeId = await response.Content.ReadAsStringAsync(cancellationToken);
                        log($"node {index} ({location}) {nodeId} ready in {waited.ElapsedMilliseconds} ms at {baseUrl}");
                        return new ClusterNode(process, output, baseUrl, location, nodeId);
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                }

                await Task.Delay(200, cancellationToken); // polling another process's HTTP port
            }
        }
        catch
        {
            Kill(process);
            throw;
        }

        Kill(process);
        throw new InvalidOperationException($"Node {index} did not become ready:{Environment.NewLine}{string.Join(Environment.NewLine, output)}");
    }

    /// <summary>SIGKILL: no shutdown code runs, the node just vanishes from the cluster.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>Kills the process if it still runs.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Kill(_process);
        _process.Dispose();
    }

    private static void Kill(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit();
        }
    }
}
