using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Berth.Containers;
using Berth.Containers.Scaling;
using Berth.Gateway.Pools;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway.Tests;

/// <summary>Pools against the real engine: least-loaded routing, scaling up and down, scale to zero, and the hold queue's bounds.</summary>
[Collection(GatewayCollection.Name)]
public sealed class PoolTests(GatewayFixture fixture)
{
    private Task<BerthTestHost> StartAsync(Action<ContainerClassOptions> configure) =>
        BerthTestHost.StartAsync(
            berth =>
            {
                berth.Services.AddSingleton<HookLog>();
                berth.AddContainer<AppContainer>(o =>
                {
                    o.Image = fixture.Images.App;
                    // Short windows so a test sees the autoscaler act within seconds.
                    o.Pool.TickInterval = TimeSpan.FromMilliseconds(200);
                    o.Pool.PanicWindow = TimeSpan.FromSeconds(1);
                    o.Pool.StableWindow = TimeSpan.FromSeconds(3);
                    o.Pool.ScaleDownDelay = TimeSpan.FromSeconds(2);
                    configure(o);
                });
            },
            app => app.MapPool<AppContainer>("/pool/{**rest}", stripPrefix: true));

    private static ContainerPool Pool(BerthTestHost host) => host.Services.GetRequiredService<ContainerNamespace<AppContainer>>().GetPool();

    private static async Task<int> RunningContainersAsync(BerthTestHost host) =>
        (await host.ContainersAsync()).Count(c => c.State == EngineContainerState.Running);

    private static async Task<string> ObjectIdOfAsync(HttpResponseMessage response)
    {
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("env").GetProperty("BERTH_OBJECT_ID").GetString()!;
    }

    [Fact]
    public async Task FetchAsync_SlowRequestOnOneInstance_NextRequestsGoToTheIdleOne()
    {
        await using var host = await StartAsync(o =>
        {
            o.MaxInstances = 2;
            o.Pool.MinimumInstances = 2;
            o.Pool.TargetConcurrency = 100;
        });
        var pool = Pool(host);
        await Eventually.ValueAsync(() => Task.FromResult(pool.RunningInstances), n => n == 2, "both minimum instances to run");
        var ns = host.Services.GetRequiredService<ContainerNamespace<AppContainer>>();
        var leases = host.Services.GetRequiredService<ContainerLeaseRegistry>();
        var ids = new[] { ns.GetByName("instance-0").Id.ToString(), ns.GetByName("instance-1").Id.ToString() };

        using var slow = host.Client.GetAsync("/pool/slow?ms=4000");
        var busy = await Eventually.ValueAsync(
            () => Task.FromResult(ids.FirstOrDefault(id => leases.Find(nameof(AppContainer), id)?.InFlight > 0)),
            id => id is not null, "the slow request to reach an instance");
        var idle = ids.Single(id => id != busy);

        // Every request while the slow one runs goes to the idle instance (a random pick would hit the busy one half the time).
        for (var i = 0; i < 6; i++)
        {
            using var response = await host.Client.GetAsync("/pool/");
            Assert.Equal(idle, await ObjectIdOfAsync(response));
        }

        Assert.False(slow.IsCompleted);
        using var slowResponse = await slow;
        Assert.Equal(HttpStatusCode.OK, slowResponse.StatusCode);
    }

    [Fact]
    public async Task Autoscaler_BoundedConcurrentLoad_ScalesUpToTargetAndBackToMinimumAfterTheDelay()
    {
        await using var host = await StartAsync(o =>
        {
            o.MaxInstances = 6;
            o.Pool.MinimumInstances = 1;
            o.Pool.TargetConcurrency = 1;
        });
        var pool = Pool(host);
        await Eventually.ValueAsync(() => Task.FromResult(pool.RunningInstances), n => n == 1, "the minimum instance to run");

        // Four clients, each with one request in flight at a time: 4 in flight, a target of 1 per instance wants 4 instances.
        using var stop = new CancellationTokenSource();
        var failures = 0;
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await host.Client.GetAsync("/pool/slow?ms=200", CancellationToken.None);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToArray();

        var peak = await Eventually.ValueAsync(() => RunningContainersAsync(host), n => n >= 4, "the pool to scale up to 4 instances", TimeSpan.FromSeconds(45));
        // Let the load run on: the count stays at the target (4), not the max (6).
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(4, pool.DesiredInstances);
        await stop.CancelAsync();
        await Task.WhenAll(clients);
        var stopped = Stopwatch.StartNew();

        await Eventually.ValueAsync(() => RunningContainersAsync(host), n => n == 1, "the pool to scale down to its minimum", TimeSpan.FromSeconds(45));

        Assert.Equal(4, peak);
        Assert.Equal(0, failures);
        Assert.Equal(1, pool.DesiredInstances);
        // Not before the scale-down delay (2 s) has passed since the load ended.
        Assert.True(stopped.Elapsed >= TimeSpan.FromSeconds(2), $"scaled down after {stopped.Elapsed}");
    }

    [Fact]
    public async Task Autoscaler_IdleWithMinimumZero_ScalesToZeroAndBackOnTheNextRequest()
    {
        await using var host = await StartAsync(o => o.Pool.MinimumInstances = 0);
        var pool = Pool(host);

        using (var first = await host.Client.GetAsync("/pool/"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        Assert.Equal(1, await RunningContainersAsync(host));
        await Eventually.ValueAsync(() => RunningContainersAsync(host), n => n == 0, "the idle pool to scale to zero", TimeSpan.FromSeconds(30));
        Assert.Equal(0, pool.DesiredInstances);
        Assert.Equal(0, pool.RunningInstances);

        using var again = await host.Client.GetAsync("/pool/");

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(1, await RunningContainersAsync(host));
        Assert.Equal(2, host.Services.GetRequiredService<HookLog>().Starts);
    }

    [Fact]
    public async Task HoldQueue_MoreWaitersThanMaxQueued_AnswersQueueFullWithRetryAfter()
    {
        await using var host = await StartAsync(o =>
        {
            o.EnvVars["STARTUP_DELAY_MS"] = "3000";
            o.Pool.MaxQueuedRequests = 2;
            o.Pool.QueueTimeout = TimeSpan.FromSeconds(30);
        });

        var first = host.Client.GetAsync("/pool/");
        var second = host.Client.GetAsync("/pool/");
        await Eventually.ValueAsync(() => Task.FromResult(Pool(host).QueuedRequests), n => n == 2, "two requests to wait for the starting instance");

        using var third = await host.Client.GetAsync("/pool/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, third.StatusCode);
        Assert.NotNull(third.Headers.RetryAfter);
        using (var body = JsonDocument.Parse(await third.Content.ReadAsStringAsync()))
        {
            Assert.Equal(GatewayErrorCodes.QueueFull, body.RootElement.GetProperty("error").GetString());
        }

        // The two that waited are served once the instance is up, and leave the queue.
        using var r1 = await first;
        using var r2 = await second;
        Assert.Equal(HttpStatusCode.OK, r1.StatusCode);
        Assert.Equal(HttpStatusCode.OK, r2.StatusCode);
        Assert.Equal(0, Pool(host).QueuedRequests);
    }

    [Fact]
    public async Task HoldQueue_InstanceSlowerThanQueueTimeout_AnswersQueueTimeoutWithRetryAfter()
    {
        await using var host = await StartAsync(o =>
        {
            o.EnvVars["STARTUP_DELAY_MS"] = "5000";
            o.Pool.QueueTimeout = TimeSpan.FromSeconds(1);
            // Without demand the pool would scale the instance back to zero as soon as it is up; keep it to serve the next request.
            o.Pool.ScaleDownDelay = TimeSpan.FromSeconds(60);
        });
        var waited = Stopwatch.StartNew();

        using var response = await host.Client.GetAsync("/pool/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        using (var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
        {
            Assert.Equal(GatewayErrorCodes.QueueTimeout, body.RootElement.GetProperty("error").GetString());
        }

        // It waited its queue timeout, not the start (whose 5 s would have ended in a 200); how much longer is the machine's load.
        Assert.True(waited.Elapsed >= TimeSpan.FromSeconds(0.9), $"answered after {waited.Elapsed}, before the 1 s queue timeout");
        Assert.Equal(0, Pool(host).QueuedRequests);
        // The start went on: a later request is served by the instance.
        await Eventually.ValueAsync(() => Task.FromResult(Pool(host).RunningInstances), n => n == 1, "the slow instance to come up");
        using var later = await host.Client.GetAsync("/pool/");
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }

    [Fact]
    public async Task HoldQueue_ClientAbortsWhileWaiting_LeavesTheQueue()
    {
        await using var host = await StartAsync(o =>
        {
            o.EnvVars["STARTUP_DELAY_MS"] = "4000";
            o.Pool.MaxQueuedRequests = 1;
        });
        using var abort = new CancellationTokenSource();
        var waiting = host.Client.GetAsync("/pool/", abort.Token);
        await Eventually.ValueAsync(() => Task.FromResult(Pool(host).QueuedRequests), n => n == 1, "the request to wait");

        await abort.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        await Eventually.ValueAsync(() => Task.FromResult(Pool(host).QueuedRequests), n => n == 0, "the aborted request to leave the queue", TimeSpan.FromSeconds(10));
        // On a loaded machine the instance can come up between the abort and its cancellation reaching the queue: the request
        // then leaves the queue for the instance and is counted in flight until its cancelled forward ends. Either way nothing leaks.
        await Eventually.ValueAsync(() => Task.FromResult(Pool(host).InFlight), n => n == 0, "the aborted request to hold no instance", TimeSpan.FromSeconds(10));
        using var next = await host.Client.GetAsync("/pool/");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }
}
