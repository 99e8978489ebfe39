using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Berth.Testing;
using Xunit.Abstractions;

namespace Berth.Cluster.Tests;

/// <summary>Three real node processes on loopback ports with one PostgreSQL database (issue 16); each test kills a node, so each has its own cluster.</summary>
public sealed class ClusterProcessTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Names = ["one", "two", "three"];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private sealed record ProbeAnswer(string Node, string Activation, long Calls);

    private sealed record ProbeAlarm(long ScheduledMs, long FiredMs, string Node);

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task NodeHostingAnObject_Killed_NextRequestSucceedsOnAnotherNodeWithin20Seconds()
    {
        await using var cluster = await ClusterHarness.StartAsync(output, "a", "b", "c");
        var victim = cluster.Nodes[2];
        var before = await HitAsync(victim, "failover");
        Assert.Equal(victim.NodeId, before.Node);

        await victim.KillAsync();
        var survivor = cluster.Nodes[0];
        var clock = Stopwatch.StartNew();
        ProbeAnswer? after = null;
        while (after is null && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                after = await _http.GetFromJsonAsync<ProbeAnswer>($"{survivor.BaseUrl}/probe/failover", attempt.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                await Task.Delay(100); // the next try of the client's own retry loop
            }
        }

        output.WriteLine($"first success {clock.ElapsedMilliseconds} ms after the kill, on {after?.Node}");
        Assert.NotNull(after);
        Assert.NotEqual(victim.NodeId, after.Node);
        Assert.NotEqual(before.Activation, after.Activation);
    }

    /// <summary>Needs the STORAGE branch (storage shipped to PostgreSQL per transaction): passes once the branches are merged.</summary>
    [Fact]
    public async Task NodeKilled_AfterThousandAcknowledgedWrites_EveryWriteIsReadBackOnASurvivor()
    {
        await using var cluster = await ClusterHarness.StartAsync(output, "a", "b", "c");
        var victim = cluster.Nodes[1];
        await _http.GetFromJsonAsync<ProbeAnswer>($"{victim.BaseUrl}/probe/ledger"); // activates it on the victim
        var written = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            (await _http.PutAsync($"{victim.BaseUrl}/objects/ledger/kv/k{i}", new StringContent($"v{i}"), ct)).EnsureSuccessStatusCode();
            Interlocked.Increment(ref written);
        });
        Assert.Equal(1000, written);

        await victim.KillAsync();
        var survivor = cluster.Nodes[2];
        await WaitUntilServedAsync(survivor, "ledger", victim.NodeId);
        var missing = new List<int>();
        for (var i = 0; i < 1000; i++)
        {
            var response = await _http.GetAsync($"{survivor.BaseUrl}/objects/ledger/kv/k{i}");
            if (response.StatusCode != HttpStatusCode.OK || await response.Content.ReadAsStringAsync() != $"v{i}")
            {
                missing.Add(i);
            }
        }

        Assert.True(missing.Count == 0, $"{missing.Count} of 1000 acknowledged writes missing after the kill, first {string.Join(", ", missing.Take(10))}");
    }

    /// <summary>Needs the SCHED and STORAGE branches (alarms kept in PostgreSQL): passes once the branches are merged.</summary>
    [Fact]
    public async Task AlarmArmedOnAKilledNode_FiresOnASurvivor()
    {
        await using var cluster = await ClusterHarness.StartAsync(output, "a", "b", "c");
        var victim = cluster.Nodes[0];
        await _http.GetFromJsonAsync<ProbeAnswer>($"{victim.BaseUrl}/probe/waker");
        var at = DateTimeOffset.UtcNow.AddSeconds(8).ToUnixTimeMilliseconds();
        (await _http.PostAsync($"{victim.BaseUrl}/objects/waker/alarm?atMs={at}", null)).EnsureSuccessStatusCode();

        await victim.KillAsync();
        var survivor = cluster.Nodes[1];
        var clock = Stopwatch.StartNew();
        ProbeAlarm[] fired = [];
        while (fired.Length == 0 && clock.Elapsed < TimeSpan.FromSeconds(40))
        {
            await Task.Delay(500); // polling across processes
            try
            {
                fired = await _http.GetFromJsonAsync<ProbeAlarm[]>($"{survivor.BaseUrl}/objects/waker/fired") ?? [];
            }
            catch (HttpRequestException)
            {
            }
        }

        var alarm = Assert.Single(fired);
        Assert.Equal(at, alarm.ScheduledMs);
        Assert.NotEqual(victim.NodeId, alarm.Node);
    }

    [Fact]
    public async Task Node_UnreachableDatabase_ExitsWithOneLineNamingTheConnectionSetting()
    {
        var data = Path.Combine(Path.GetTempPath(), "berth-cluster-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var (process, log) = ClusterNode.Launch($"http://127.0.0.1:{BerthTestHost.FreePort()}", new Dictionary<string, string>
            {
                ["Berth:Objects:DataDirectory"] = data,
                ["Berth:Containers:AppName"] = "ct-unreachable",
                ["Berth:Cluster:Provider"] = "postgres",
                ["Berth:Cluster:Connection"] = $"Host=127.0.0.1;Port={BerthTestHost.FreePort()};Username=berth;Password=berth;Timeout=3",
                ["Berth:Cluster:SiloPort"] = $"{BerthTestHost.FreePort()}",
                ["Berth:Cluster:GatewayPort"] = $"{BerthTestHost.FreePort()}",
                ["Berth:Cluster:AdvertiseAddress"] = "127.0.0.1",
            });
            using (process)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await process.WaitForExitAsync(timeout.Token);
                Assert.NotEqual(0, process.ExitCode);
                Assert.Contains(log, line => line.Contains("Berth cannot use the cluster's PostgreSQL database", StringComparison.Ordinal)
                    && line.Contains("Berth:Cluster:Connection", StringComparison.Ordinal));
            }
        }
        finally
        {
            TempDirectory.TryDelete(data);
        }
    }

    private async Task WaitUntilServedAsync(ClusterNode node, string name, string notOn)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var answer = await _http.GetFromJsonAsync<ProbeAnswer>($"{node.BaseUrl}/probe/{name}", attempt.Token);
                if (answer is not null && answer.Node != notOn)
                {
                    output.WriteLine($"{name} served on {answer.Node} {clock.ElapsedMilliseconds} ms after the kill");
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                await Task.Delay(100); // the client's own retry loop
            }
        }

        throw new TimeoutException($"{name} was not served by a survivor within 20 s of the kill.");
    }

    private async Task<ProbeAnswer> HitAsync(ClusterNode node, string name, string? location = null)
    {
        var url = location is null ? $"{node.BaseUrl}/probe/{name}" : $"{node.BaseUrl}/probe/{name}?location={location}";
        return await _http.GetFromJsonAsync<ProbeAnswer>(url) ?? throw new InvalidOperationException("empty answer");
    }
}
