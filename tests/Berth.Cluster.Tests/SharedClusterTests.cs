using System.Net.Http.Json;
using Xunit.Abstractions;

namespace Berth.Cluster.Tests;

/// <summary>One 3-node cluster (locations a, b, c) shared by the tests that do not kill a node.</summary>
public sealed class SharedCluster : IAsyncLifetime
{
    private readonly ForwardingOutput _output = new();

    public ClusterHarness Cluster { get; private set; } = null!;

    public ITestOutputHelper? Output { get => _output.Target; set => _output.Target = value; }

    public async Task InitializeAsync() => Cluster = await ClusterHarness.StartAsync(_output, "a", "b", "c");

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class ForwardingOutput : ITestOutputHelper
    {
        public ITestOutputHelper? Target { get; set; }

        public void WriteLine(string message) => Target?.WriteLine(message);

        public void WriteLine(string format, params object[] args) => Target?.WriteLine(format, args);
    }
}

public sealed class SharedClusterTests : IClassFixture<SharedCluster>, IDisposable
{
    private static readonly string[] Names = ["one", "two", "three"];
    private readonly ClusterHarness _cluster;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public SharedClusterTests(SharedCluster shared, ITestOutputHelper output)
    {
        shared.Output = output;
        _cluster = shared.Cluster;
    }

    private sealed record ProbeAnswer(string Node, string Activation, long Calls);

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task ThreeNodes_ConcurrentRequestsToEveryGateway_OneActivationClusterWide()
    {
        // 3 objects × 3 gateways × 20 requests at once.
        var answers = await Task.WhenAll(
            from name in Names
            from node in _cluster.Nodes
            from i in Enumerable.Range(0, 20)
            select HitAsync(node, $"single-{name}").ContinueWith(t => (Name: name, Answer: t.Result), TaskScheduler.Default));

        foreach (var group in answers.GroupBy(a => a.Name))
        {
            Assert.Single(group.Select(a => a.Answer.Activation).Distinct());
            Assert.Single(group.Select(a => a.Answer.Node).Distinct());
            // Every call counted by that one activation: 1..60, each once.
            Assert.Equal(Enumerable.Range(1, 60).Select(i => (long)i), group.Select(a => a.Answer.Calls).Order());
        }
    }

    [Fact]
    public async Task NewObjectWithoutHint_LandsOnTheNodeThatReceivedItsFirstRequest()
    {
        foreach (var node in _cluster.Nodes)
        {
            Assert.Equal(node.NodeId, (await HitAsync(node, $"local-{node.Location}")).Node);
        }
    }

    [Fact]
    public async Task LocationHint_NewObject_PlacedOnTheNodeOfThatLocation()
    {
        foreach (var target in _cluster.Nodes)
        {
            // Asked through node a for a new object hinted at each location.
            Assert.Equal(target.NodeId, (await HitAsync(_cluster.Nodes[0], $"hinted-{target.Location}", target.Location)).Node);
        }
    }

    [Fact]
    public async Task LocationHint_NoNodeHasIt_PlacedAsWithoutAHint()
    {
        Assert.Equal(_cluster.Nodes[1].NodeId, (await HitAsync(_cluster.Nodes[1], "hinted-nowhere", "mars")).Node);
    }

    [Fact]
    public async Task ClusterMode_EveryResponse_NamesTheNodeThatAnsweredIt()
    {
        foreach (var node in _cluster.Nodes)
        {
            using var response = await _http.GetAsync($"{node.BaseUrl}/probe/header-check");
            Assert.Equal(node.NodeId, Assert.Single(response.Headers.GetValues(ClusterNodeHeader.HeaderName)));
        }
    }

    private async Task<ProbeAnswer> HitAsync(ClusterNode node, string name, string? location = null)
    {
        var url = location is null ? $"{node.BaseUrl}/probe/{name}" : $"{node.BaseUrl}/probe/{name}?location={location}";
        return await _http.GetFromJsonAsync<ProbeAnswer>(url) ?? throw new InvalidOperationException("empty answer");
    }
}
