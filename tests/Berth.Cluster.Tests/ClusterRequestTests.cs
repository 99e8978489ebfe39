using System.Net.Http.Json;
using Berth.Runtime;
using Berth.Testing;
using Xunit.Abstractions;

namespace Berth.Cluster.Tests;

/// <summary>The Docker engine and the test app image, for cluster tests whose nodes run containers.</summary>
public sealed class ClusterImagesFixture : DockerEngineFixture, IAsyncLifetime;

/// <summary>
/// Requests to a container through a node that does not host its object (issue 16, "a request lands on any node"): that
/// node forwards straight to the container and reports the request to the object, which keeps the container awake.
/// </summary>
public sealed class ClusterRequestTests(ClusterImagesFixture fixture, ITestOutputHelper output) : IClassFixture<ClusterImagesFixture>, IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task RequestThroughAnotherNode_LongerThanSleepAfter_CompletesThenTheContainerSleeps()
    {
        await using var cluster = await ClusterHarness.StartAsync(output, new Dictionary<string, string>
        {
            ["Probe:Image"] = fixture.Images.App,
            ["Probe:SleepAfter"] = "00:00:02",
            [$"Berth:Containers:ExtraLabels:{BerthLabels.Test}"] = "1",
            ["Logging:Console:TimestampFormat"] = "HH:mm:ss.fff ",
            // Failed reports and the idle checks show in the node logs this test prints when it fails.
            ["Logging:LogLevel:Berth.Containers"] = "Debug",
        }, "a", "b");
        var (entry, host) = (cluster.Nodes[0], cluster.Nodes[1]);

        // Created through the node that is to host it (a new object is placed on the node that received its first call).
        var before = await _http.GetFromJsonAsync<RootInfo>($"{host.BaseUrl}/c/long/");
        var container = Assert.Single(await ContainersAsync(cluster));
        Assert.Equal(host.NodeId, container.Labels[BerthLabels.Node]);
        Assert.Equal(cluster.AppName, container.Labels[BerthLabels.Cluster]); // the cluster's ID (default: the app's name)

        // 6 s through the other node, three times the container's sleepAfter: it must not be put to sleep under the request.
        // Halfway, a request through the hosting node must find the same container (put to sleep, the app would be draining
        // the slow request and the object would wait for that stop and start a new container).
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} slow request starts");
        var slow = _http.GetAsync($"{entry.BaseUrl}/c/long/slow?ms=6000");
        await Task.Delay(TimeSpan.FromSeconds(4)); // past sleepAfter with the slow request in flight on the other node
        var during = await _http.GetFromJsonAsync<RootInfo>($"{host.BaseUrl}/c/long/");
        using (var response = await slow)
        {
            Assert.Equal(entry.NodeId, response.Headers.GetValues(ClusterNodeHeader.HeaderName).Single());
            Assert.Equal("waited 6000 ms\n", await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
        }

        output.WriteLine($"container {before!.Hostname} before, {during!.Hostname} halfway through the cross-node request");
        Assert.Equal(before.Hostname, during.Hostname);
        Assert.Equal(container.Id, Assert.Single(await ContainersAsync(cluster)).Id);

        // Once the request ended, the hold ends too: the container sleeps (2 s idle + one report interval + the stop).
        try
        {
            await Eventually.ValueAsync(async () => (await ContainersAsync(cluster)).Count, n => n == 0, "the container asleep after the cross-node request", TimeSpan.FromSeconds(30));
        }
        finally
        {
            foreach (var node in cluster.Nodes)
            {
                output.WriteLine($"--- node {node.NodeId} ---{Environment.NewLine}{node.Log}");
            }
        }
    }

    private sealed record RootInfo(string Hostname);

    private Task<IReadOnlyList<ContainerSummary>> ContainersAsync(ClusterHarness cluster) =>
        fixture.Runtime.ListAsync(new Dictionary<string, string> { [BerthLabels.App] = cluster.AppName });
}
