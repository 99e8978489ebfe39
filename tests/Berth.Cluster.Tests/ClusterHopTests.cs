using System.Net.Http.Json;
using Berth.Gateway;
using Berth.Runtime;
using Berth.Testing;
using Xunit.Abstractions;

namespace Berth.Cluster.Tests;

/// <summary>
/// <c>Berth:Cluster:Forwarding</c> = <c>node</c> (issue 16: "through B's gateway"): a node that does not host a container's
/// object forwards the request to the hosting node's gateway with a signed hop header, never to the container's address.
/// </summary>
public sealed class ClusterHopTests(ClusterImagesFixture fixture, ITestOutputHelper output) : IClassFixture<ClusterImagesFixture>, IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task RequestThroughAnotherNode_ForwardingNode_ReachesTheContainerThroughTheHostingNode()
    {
        await using var cluster = await StartAsync(sleepAfter: null, "a", "b", "c");
        var (host, entry) = (cluster.Nodes[0], cluster.Nodes[1]);
        try
        {
            var first = await _http.GetAsync($"{host.BaseUrl}/c/hop/");
            first.EnsureSuccessStatusCode();
            var container = Assert.Single(await ContainersAsync(cluster));
            Assert.Equal(host.NodeId, container.Labels[BerthLabels.Node]);

            // Through b: the answer comes from a's gateway (its berth-node header replaces b's), and the container sees
            // neither the hop header nor any X-Berth- header.
            using var response = await _http.GetAsync($"{entry.BaseUrl}/c/hop/headers");
            Assert.Equal(host.NodeId, response.Headers.GetValues(ClusterNodeHeader.HeaderName).Single());
            var headers = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<Dictionary<string, string>>();
            Assert.DoesNotContain(headers!.Keys, k => k.StartsWith("X-Berth-", StringComparison.OrdinalIgnoreCase));

            // A body goes through both gateways to the container and back.
            var body = string.Concat(Enumerable.Repeat("through the hosting node ", 4000));
            using var echo = await _http.PostAsync($"{entry.BaseUrl}/c/hop/echo", new StringContent(body));
            Assert.Equal(host.NodeId, echo.Headers.GetValues(ClusterNodeHeader.HeaderName).Single());
            Assert.Equal(body, await echo.EnsureSuccessStatusCode().Content.ReadAsStringAsync());

            // The client's host reaches the container as it would through the hosting node itself, not that node's address.
            using (var withHost = new HttpRequestMessage(HttpMethod.Get, $"{entry.BaseUrl}/c/hop/headers"))
            {
                withHost.Headers.Host = "shop.example.com";
                using var hostAnswer = await _http.SendAsync(withHost);
                var seen = new Dictionary<string, string>(
                    (await hostAnswer.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<Dictionary<string, string>>())!, StringComparer.OrdinalIgnoreCase);
                Assert.Equal("shop.example.com", seen["X-Forwarded-Host"]);
            }

            // A raw path the Uri class would canonicalise ('\' to '/', '..' dropped) hops as sent: the hosting node routes it to
            // the same object's container, not to its own /health (which the canonical form "/health" would be).
            var raw = new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true };
            (await _http.GetAsync(new Uri($"{host.BaseUrl}/c/z1\\..\\..\\health", raw))).EnsureSuccessStatusCode();
            using (var sneaky = await _http.GetAsync(new Uri($"{entry.BaseUrl}/c/z1\\..\\..\\health", raw)))
            {
                Assert.Equal(host.NodeId, sneaky.Headers.GetValues(ClusterNodeHeader.HeaderName).Single());
                Assert.Contains("\"hostname\"", await sneaky.EnsureSuccessStatusCode().Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
            }

            // Still the one container of that object on the hosting node.
            Assert.Contains(await ContainersAsync(cluster), c => c.Id == container.Id);
        }
        finally
        {
            WriteLogs(cluster);
        }
    }

    [Fact]
    public async Task ForgedHopHeader_FromAClient_IsIgnoredAndDropped()
    {
        await using var cluster = await StartAsync(sleepAfter: null, "a", "b", "c");
        var (host, entry) = (cluster.Nodes[0], cluster.Nodes[1]);
        try
        {
            (await _http.GetAsync($"{host.BaseUrl}/c/forged/")).EnsureSuccessStatusCode();

            // A forged hop header (right shape, current time, wrong MAC) must not make b believe the request already hopped:
            // b still forwards through a (a's berth-node header), and the forged value never reaches the container.
            var forged = $"{host.NodeId};{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()};AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{entry.BaseUrl}/c/forged/headers");
            request.Headers.TryAddWithoutValidation(NodeHopSigner.HeaderName, forged);
            using var response = await _http.SendAsync(request);
            Assert.Equal(host.NodeId, response.Headers.GetValues(ClusterNodeHeader.HeaderName).Single());
            var headers = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<Dictionary<string, string>>();
            Assert.DoesNotContain(headers!.Keys, k => k.StartsWith("X-Berth-", StringComparison.OrdinalIgnoreCase));
            Assert.DoesNotContain(headers.Values, v => v.Contains(forged, StringComparison.Ordinal));
            Assert.Contains($"[{Berth.Diagnostics.BerthEventIds.Gateway + 71}]", entry.Log, StringComparison.Ordinal); // HopHeaderRejected
        }
        finally
        {
            WriteLogs(cluster);
        }
    }

    [Fact]
    public async Task RequestThroughAnotherNode_LongerThanSleepAfter_CompletesWithoutReplacingTheContainer()
    {
        await using var cluster = await StartAsync(sleepAfter: "00:00:02", "a", "b", "c");
        var (host, entry) = (cluster.Nodes[0], cluster.Nodes[1]);
        try
        {
            var before = await _http.GetFromJsonAsync<RootInfo>($"{host.BaseUrl}/c/long/");
            var container = Assert.Single(await ContainersAsync(cluster));

            // 6 s through b, three times sleepAfter: the hosting node counts it in its own lease, so it is never cut.
            var slow = _http.GetAsync($"{entry.BaseUrl}/c/long/slow?ms=6000");
            await Task.Delay(TimeSpan.FromSeconds(4)); // past sleepAfter with the request in flight through b
            var during = await _http.GetFromJsonAsync<RootInfo>($"{host.BaseUrl}/c/long/");
            using (var response = await slow)
            {
                Assert.Equal(host.NodeId, response.Headers.GetValues(ClusterNodeHeader.HeaderName).Single());
                Assert.Equal("waited 6000 ms\n", await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
            }

            Assert.Equal(before!.Hostname, during!.Hostname);
            Assert.Equal(container.Id, Assert.Single(await ContainersAsync(cluster)).Id);

            // Then it sleeps as after a local request.
            await Eventually.ValueAsync(async () => (await ContainersAsync(cluster)).Count, n => n == 0, "the container asleep after the hopped request", TimeSpan.FromSeconds(30));
        }
        finally
        {
            WriteLogs(cluster);
        }
    }

    private Task<ClusterHarness> StartAsync(string? sleepAfter, params string[] locations)
    {
        var settings = new Dictionary<string, string>
        {
            ["Probe:Image"] = fixture.Images.App,
            ["Berth:Cluster:Forwarding"] = "node",
            [$"Berth:Containers:ExtraLabels:{BerthLabels.Test}"] = "1",
            ["Logging:LogLevel:Berth.Gateway"] = "Debug",
            ["Logging:LogLevel:Berth.Containers"] = "Debug",
            ["Logging:Console:TimestampFormat"] = "HH:mm:ss.fff ",
        };
        if (sleepAfter is not null)
        {
            settings["Probe:SleepAfter"] = sleepAfter;
        }

        return ClusterHarness.StartAsync(output, settings, locations);
    }

    private void WriteLogs(ClusterHarness cluster)
    {
        foreach (var node in cluster.Nodes)
        {
            output.WriteLine($"--- node {node.NodeId} ---{Environment.NewLine}{node.Log}");
        }
    }

    private sealed record RootInfo(string Hostname);

    private Task<IReadOnlyList<ContainerSummary>> ContainersAsync(ClusterHarness cluster) =>
        fixture.Runtime.ListAsync(new Dictionary<string, string> { [BerthLabels.App] = cluster.AppName });
}
