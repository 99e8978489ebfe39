using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Berth.Containers;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway.Tests;

/// <summary>Issue 14 item 3 on the real engine: a new object's first request claims a prewarmed (paused) container.</summary>
[Collection(GatewayCollection.Name)]
public sealed class WarmPoolTests(GatewayFixture fixture)
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);

    private Task<BerthTestHost> StartAsync(int prewarmed, int maxInstances, string? appName = null, string? dataDirectory = null) =>
        BerthTestHost.StartAsync(
            berth =>
            {
                berth.Services.AddSingleton<HookLog>();
                berth.AddContainer<AppContainer>(o =>
                {
                    o.Image = fixture.Images.App;
                    o.PrewarmedInstances = prewarmed;
                    o.MaxInstances = maxInstances;
                });
            },
            app => app.MapContainer<AppContainer>("/c/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true),
            appName,
            dataDirectory);

    private static Containers.WarmPool Pool(BerthTestHost host) => host.Services.GetRequiredService<Containers.WarmPool>();

    private static Task<int> ReadyAsync(BerthTestHost host, int count) =>
        Eventually.ValueAsync(() => Task.FromResult(Pool(host).ReadyCount(nameof(AppContainer))), n => n == count, $"{count} prewarmed containers", Within);

    private static IContainer Object(BerthTestHost host, string name) =>
        host.Services.GetRequiredService<ContainerNamespace<AppContainer>>().GetByName(name).Object;

    [Fact]
    public async Task FirstRequest_NewIdWithPrewarmedContainer_ClaimsItByUnpauseWithoutDockerStart()
    {
        await using var host = await StartAsync(prewarmed: 2, maxInstances: 4);
        // The pool learns its class's container from the first start on the node.
        (await host.Client.GetAsync("/c/seed/")).EnsureSuccessStatusCode();
        await ReadyAsync(host, 2);
        var pooled = Pool(host).ReadyIds(nameof(AppContainer));
        var claimAt = DateTimeOffset.UtcNow;

        using var response = await host.Client.GetAsync("/c/fresh/hello");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello\n", await response.Content.ReadAsStringAsync());
        var state = await Object(host, "fresh").GetStateAsync();
        Assert.Equal(ContainerObjectState.Healthy, state.State);
        Assert.Contains(state.ContainerId, pooled);
        var events = await EngineEventsAsync(state.ContainerId!, claimAt - TimeSpan.FromMinutes(2));
        Assert.Equal(["start", "pause"], events.Where(e => e.At < claimAt).Select(e => e.Action).Where(a => a is "start" or "pause" or "unpause"));
        Assert.Equal(["unpause"], events.Where(e => e.At >= claimAt).Select(e => e.Action).Where(a => a is "start" or "pause" or "unpause"));

        // Identity: not in the environment (the container existed before its object), in the mounted file.
        using var body = JsonDocument.Parse(await host.Client.GetStringAsync("/c/fresh/"));
        Assert.False(body.RootElement.GetProperty("env").TryGetProperty("BERTH_OBJECT_ID", out _));
        var objectId = host.Services.GetRequiredService<ContainerNamespace<AppContainer>>().IdFromName("fresh").ToString();
        var file = await Object(host, "fresh").ExecAsync(["cat", Containers.WarmPool.ObjectIdFile]);
        Assert.Equal(objectId + "\n", file.Stdout);
    }

    [Fact]
    public async Task Claims_PoolRefillsButNeverPastMaxInstances()
    {
        await using var host = await StartAsync(prewarmed: 2, maxInstances: 4);
        (await host.Client.GetAsync("/c/seed/")).EnsureSuccessStatusCode();
        await ReadyAsync(host, 2);

        (await host.Client.GetAsync("/c/one/")).EnsureSuccessStatusCode();
        // seed + one + 2 prewarmed = 4 = max_instances.
        await ReadyAsync(host, 2);
        (await host.Client.GetAsync("/c/two/")).EnsureSuccessStatusCode();
        // seed + one + two + 1 prewarmed: the pool may not refill to 2.
        await ReadyAsync(host, 1);
        Assert.Equal(4, (await host.ContainersAsync()).Count);
        (await host.Client.GetAsync("/c/three/")).EnsureSuccessStatusCode();
        await ReadyAsync(host, 0);

        using var fourth = await host.Client.GetAsync("/c/four/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, fourth.StatusCode);
        Assert.Equal(4, (await host.ContainersAsync()).Count);
        Assert.Equal(0, Pool(host).ReadyCount(nameof(AppContainer)));
    }

    [Fact]
    public async Task PrewarmedContainer_RemovedFromUnderThePool_IsReplaced()
    {
        await using var host = await StartAsync(prewarmed: 1, maxInstances: 4);
        (await host.Client.GetAsync("/c/seed/")).EnsureSuccessStatusCode();
        await ReadyAsync(host, 1);
        var dead = Assert.Single(Pool(host).ReadyIds(nameof(AppContainer)));

        await host.Runtime.RemoveAsync(dead);

        var replaced = await Eventually.ValueAsync(() => Task.FromResult(Pool(host).ReadyIds(nameof(AppContainer))),
            ids => ids.Count == 1 && ids[0] != dead, "a replacement prewarmed container", Within);
        Assert.Equal(EngineContainerState.Paused, (await host.Runtime.InspectAsync(replaced[0]))!.State);
        (await host.Client.GetAsync("/c/after/")).EnsureSuccessStatusCode();
        Assert.Equal(replaced[0], (await Object(host, "after").GetStateAsync()).ContainerId);
    }

    [Fact]
    public async Task NodeRestart_ClaimedContainer_StaysWithItsOneObject()
    {
        var appName = "t" + Guid.NewGuid().ToString("N")[..10];
        var dataDirectory = Path.Combine(Path.GetTempPath(), "berth-tests", appName);
        try
        {
            string claimed;
            var first = await StartAsync(prewarmed: 1, maxInstances: 4, appName, dataDirectory);
            {
                (await first.Client.GetAsync("/c/seed/")).EnsureSuccessStatusCode();
                await ReadyAsync(first, 1);
                claimed = Assert.Single(Pool(first).ReadyIds(nameof(AppContainer)));
                (await first.Client.PostAsync("/c/keeper/state", new StringContent("in memory"))).EnsureSuccessStatusCode();
                Assert.Equal(claimed, (await Object(first, "keeper").GetStateAsync()).ContainerId);
                await first.StopLeavingContainersAsync();
            }

            await using var second = await StartAsync(prewarmed: 1, maxInstances: 4, appName, dataDirectory);

            // The claimed container carries no object label; the node's claim table gave it back to keeper.
            Assert.Equal("in memory", await second.Client.GetStringAsync("/c/keeper/state"));
            Assert.Equal(claimed, (await Object(second, "keeper").GetStateAsync()).ContainerId);
            (await second.Client.GetAsync("/c/other/")).EnsureSuccessStatusCode();
            await ReadyAsync(second, 1);
            (await second.Client.GetAsync("/c/third/")).EnsureSuccessStatusCode();
            var owners = new[] { "keeper", "seed", "other", "third" };
            var ids = await Task.WhenAll(owners.Select(async o => (await Object(second, o).GetStateAsync()).ContainerId));
            Assert.Equal(ids.Length, ids.Distinct().Count());
            Assert.Equal("in memory", await second.Client.GetStringAsync("/c/keeper/state"));
        }
        finally
        {
            await BerthTestHost.RemoveAppResourcesAsync(fixture.Runtime, appName);
            BerthTestHost.TryDelete(dataDirectory);
        }
    }

    /// <summary>The engine's events for one container since <paramref name="since"/>, read with <c>docker events</c> up to now.</summary>
    private static async Task<IReadOnlyList<(string Action, DateTimeOffset At)>> EngineEventsAsync(string containerId, DateTimeOffset since)
    {
        var until = DateTimeOffset.UtcNow.AddSeconds(1).ToUnixTimeSeconds();
        var start = new ProcessStartInfo("docker")
        {
            ArgumentList =
            {
                "events", "--since", since.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), "--until", until.ToString(CultureInfo.InvariantCulture),
                "--filter", "type=container", "--filter", $"container={containerId}", "--format", "{{.Action}} {{.TimeNano}}",
            },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .Select(parts => (parts[0], DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[1], CultureInfo.InvariantCulture) / 1_000_000)))
            .ToArray();
    }
}
