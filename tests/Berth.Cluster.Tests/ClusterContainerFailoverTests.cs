using System.Diagnostics;
using System.Net.Http.Json;
using Berth.Docker;
using Berth.Testing;
using Docker.DotNet;
using Docker.DotNet.Models;
using Xunit.Abstractions;

namespace Berth.Cluster.Tests;

/// <summary>
/// Containers follow their objects when a node dies (issue 16 §6), with three real node processes sharing this machine's
/// Docker engine: a request through a survivor starts a new container there, and the dead node's containers are removed by
/// one survivor, or by the dead node itself when it comes back.
/// </summary>
public sealed class ClusterContainerFailoverTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan FailoverBound = TimeSpan.FromSeconds(40);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly DockerContainerRuntime _runtime = new(new DockerRuntimeOptions());
    private DockerClient _docker = null!;
    private string? _app;

    private sealed record RootInfo(string Hostname);

    public async Task InitializeAsync()
    {
        await TestImages.EnsureBuiltAsync(_runtime);
        _docker = new DockerClientBuilder().WithEndpoint(_runtime.Endpoint).Build();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            foreach (var container in await ListAsync(_app))
            {
                await _docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true });
            }
        }

        _docker.Dispose();
    }

    public void Dispose()
    {
        _runtime.Dispose();
        _http.Dispose();
    }

    [Fact]
    public async Task NodeHostingContainers_Killed_SurvivorServesFromNewContainerAndOneSurvivorRemovesTheDeadNodesContainers()
    {
        await using var cluster = await StartClusterAsync(new Dictionary<string, string>());
        var (victim, alpha, beta) = await StartTwoContainersOnOneNodeAsync(cluster);

        await victim.KillAsync();
        var survivor = cluster.Nodes.First(n => n != victim);
        var clock = Stopwatch.StartNew();
        var after = await FirstSuccessAsync(survivor, "alpha");
        output.WriteLine($"alpha served {clock.ElapsedMilliseconds} ms after the kill by container {after.Hostname}");
        Assert.NotEqual(alpha.ID[..12], after.Hostname);
        var replacement = Assert.Single(await ListAsync(cluster.AppName), c => c.ID.StartsWith(after.Hostname, StringComparison.Ordinal));
        Assert.NotEqual(victim.NodeId, replacement.Labels[BerthLabels.Node]);

        await Eventually.ValueAsync(
            async () => (await ListAsync(cluster.AppName, victim.NodeId)).Count, count => count == 0,
            $"no container labelled with the dead node {victim.NodeId} (alpha's {alpha.ID[..12]}, beta's {beta.ID[..12]})", FailoverBound);
        output.WriteLine($"the dead node's containers removed {clock.ElapsedMilliseconds} ms after the kill");
        // One survivor claimed the dead silo and handed both containers over; the others saw the claim.
        var claims = await Eventually.ValueAsync(
            () => cluster.Database.ScalarAsync<string>(
                "SELECT coalesce(string_agg(node_id || ' by ' || claimed_by || (CASE WHEN done_at IS NULL THEN ' open' ELSE ' done' END) || ' removed ' || removed, '; '), '') FROM berth_node_cleanups"),
            text => text.Contains(" done ", StringComparison.Ordinal), "the survivor's claim on the dead silo marked done", FailoverBound);
        output.WriteLine($"claims: {claims}");
        foreach (var node in cluster.Nodes)
        {
            output.WriteLine($"{node.NodeId}: {string.Join(Environment.NewLine, node.Log.Split('\n').Where(l => l.Contains("Dead node", StringComparison.Ordinal) || l.Contains("moved from", StringComparison.Ordinal) || l.Contains("earlier run", StringComparison.Ordinal) || l.Contains("to its object failed", StringComparison.Ordinal)))}");
        }
        var claimant = Assert.Single(cluster.Nodes, n => n != victim && claims == $"{victim.NodeId} by {n.NodeId} done removed 2");
        Assert.Single(cluster.Nodes, n => n.Log.Contains("container(s) removed, ", StringComparison.Ordinal));

        // Beta, whose container was removed while its object was not active, starts again on a survivor.
        var betaAfter = await FirstSuccessAsync(survivor, "beta");
        Assert.NotEqual(beta.ID[..12], betaAfter.Hostname);
    }

    [Fact]
    public async Task DeadNodeRestarted_SameNodeId_ItsReconcilerRemovesContainersWhoseObjectsMovedAndKeepsTheOthers()
    {
        // Survivors leave the dead node's containers alone here, so what is left is the returning node's own reconciler's.
        await using var cluster = await StartClusterAsync(new Dictionary<string, string> { ["Berth:Cluster:RemoveDeadNodeContainers"] = "false" });
        var (victim, alpha, beta) = await StartTwoContainersOnOneNodeAsync(cluster);
        var victimIndex = cluster.Nodes.IndexOf(victim);

        await victim.KillAsync();
        var survivor = cluster.Nodes.First(n => n != victim);
        var after = await FirstSuccessAsync(survivor, "alpha");
        Assert.NotEqual(alpha.ID[..12], after.Hostname);

        // The object moved without adopting its old container, and no survivor removed it.
        var left = await ListAsync(cluster.AppName, victim.NodeId);
        Assert.Equal(new[] { alpha.ID, beta.ID }.Order(StringComparer.Ordinal), left.Select(c => c.ID).Order(StringComparer.Ordinal));

        var restarted = await cluster.RestartNodeAsync(victimIndex);
        await cluster.WaitForMembersAsync(3);
        Assert.Equal(victim.NodeId, restarted.NodeId);
        var remaining = await Eventually.ValueAsync(
            () => ListAsync(cluster.AppName, victim.NodeId), containers => containers.All(c => c.ID != alpha.ID),
            $"alpha's old container {alpha.ID[..12]} removed by the restarted node's reconciler", FailoverBound);

        // Beta's object had not moved: the returning node adopted its container, which still serves it.
        Assert.Equal(beta.ID, Assert.Single(remaining).ID);
        var betaAfter = await FirstSuccessAsync(survivor, "beta");
        Assert.Equal(beta.ID[..12], betaAfter.Hostname);
    }

    private async Task<ClusterHarness> StartClusterAsync(Dictionary<string, string> settings)
    {
        settings["Probe:Image"] = TestImages.AppImage;
        settings[$"Berth:Containers:ExtraLabels:{BerthLabels.Test}"] = "1";
        var cluster = await ClusterHarness.StartAsync(output, settings, "a", "b", "c");
        _app = cluster.AppName;
        return cluster;
    }

    /// <summary>Starts alpha's container through node 0, then beta's through the node that hosts alpha, and checks both run on that node.</summary>
    private async Task<(ClusterNode Victim, ContainerListResponse Alpha, ContainerListResponse Beta)> StartTwoContainersOnOneNodeAsync(ClusterHarness cluster)
    {
        var first = await GetRootAsync(cluster.Nodes[0], "alpha");
        var alpha = Assert.Single(await ListAsync(cluster.AppName), c => c.ID.StartsWith(first.Hostname, StringComparison.Ordinal));
        var victim = cluster.Nodes.Single(n => n.NodeId == alpha.Labels[BerthLabels.Node]);
        var second = await GetRootAsync(victim, "beta");
        var beta = Assert.Single(await ListAsync(cluster.AppName), c => c.ID.StartsWith(second.Hostname, StringComparison.Ordinal));
        Assert.True(beta.Labels[BerthLabels.Node] == victim.NodeId, $"beta's container runs on {beta.Labels[BerthLabels.Node]}, not on alpha's node {victim.NodeId} whose gateway created it");
        output.WriteLine($"alpha {alpha.ID[..12]} and beta {beta.ID[..12]} on node {victim.NodeId} ({victim.Location})");
        return (victim, alpha, beta);
    }

    private async Task<RootInfo> GetRootAsync(ClusterNode node, string name) =>
        await _http.GetFromJsonAsync<RootInfo>($"{node.BaseUrl}/c/{name}/") ?? throw new InvalidOperationException("empty answer");

    /// <summary>The first answer of the container behind <paramref name="name"/> through <paramref name="node"/>, retried like a client would.</summary>
    private async Task<RootInfo> FirstSuccessAsync(ClusterNode node, string name)
    {
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (clock.Elapsed < FailoverBound)
        {
            try
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                using var response = await _http.GetAsync($"{node.BaseUrl}/c/{name}/", attempt.Token);
                if (response.IsSuccessStatusCode)
                {
                    return await response.Content.ReadFromJsonAsync<RootInfo>() ?? throw new InvalidOperationException("empty answer");
                }

                last = new HttpRequestException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                last = ex;
            }

            await Task.Delay(200); // the client's own retry loop
        }

        throw new TimeoutException($"{name} was not served through {node.NodeId} within {FailoverBound.TotalSeconds} s; last: {last?.Message}");
    }

    /// <summary>The app's containers (running or not), or only those labelled with <paramref name="nodeId"/>.</summary>
    private async Task<IList<ContainerListResponse>> ListAsync(string app, string? nodeId = null)
    {
        var labels = new Dictionary<string, bool> { [$"{BerthLabels.App}={app}"] = true };
        if (nodeId is not null)
        {
            labels[$"{BerthLabels.Node}={nodeId}"] = true;
        }

        return await _docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = labels },
        });
    }
}
