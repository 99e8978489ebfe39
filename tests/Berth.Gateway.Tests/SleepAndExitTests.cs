using System.Diagnostics;
using System.Net;
using Berth.Containers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class SleepAndExitTests(GatewayFixture fixture)
{
    private Task<BerthTestHost> StartAsync(Action<ContainerClassOptions>? configure = null) =>
        BerthTestHost.StartAsync(
            berth =>
            {
                berth.Services.AddSingleton<HookLog>();
                berth.AddContainer<AppContainer>(o =>
                {
                    o.Image = fixture.Images.App;
                    configure?.Invoke(o);
                });
            },
            app => app.MapContainer<AppContainer>("/c/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true));

    private static IContainer Object(BerthTestHost host, string name) =>
        host.Services.GetRequiredService<ContainerNamespace<AppContainer>>().GetByName(name).Object;

    [Fact]
    public async Task SleepAfter_Idle_StopsContainer_AndNextRequestStartsAFreshOne()
    {
        await using var host = await StartAsync(o => o.SleepAfter = TimeSpan.FromSeconds(1));
        (await host.Client.GetAsync("/c/sleepy/")).EnsureSuccessStatusCode();
        var first = Assert.Single(await host.ContainersAsync());

        var stopped = await Eventually.ValueAsync(() => Object(host, "sleepy").GetStateAsync(), s => s.State == ContainerObjectState.Stopped, "the container to sleep");

        Assert.Equal("sleep", stopped.Reason);
        Assert.Empty(await host.ContainersAsync());
        var stop = Assert.Single(host.Services.GetRequiredService<HookLog>().Stops);
        Assert.Equal(StopReason.Sleep, stop.Reason);

        (await host.Client.GetAsync("/c/sleepy/")).EnsureSuccessStatusCode();
        var second = Assert.Single(await host.ContainersAsync());
        Assert.NotEqual(first.Id, second.Id);
    }

    [Fact]
    public async Task SleepAfter_LongRequestInFlight_KeepsContainerUntilItEnds()
    {
        await using var host = await StartAsync(o => o.SleepAfter = TimeSpan.FromMilliseconds(500));
        (await host.Client.GetAsync("/c/busy/")).EnsureSuccessStatusCode();

        // The request outlives SleepAfter several times over; the container must serve it to the end.
        using var slow = await host.Client.GetAsync("/c/busy/slow?ms=3000");

        Assert.Equal(HttpStatusCode.OK, slow.StatusCode);
        Assert.Equal("waited 3000 ms\n", await slow.Content.ReadAsStringAsync());
        Assert.Empty(host.Services.GetRequiredService<HookLog>().Stops);
        await Eventually.ValueAsync(() => Object(host, "busy").GetStateAsync(), s => s.State == ContainerObjectState.Stopped, "sleep after the request ended");
    }

    [Fact]
    public async Task ContainerExits_ByItself_OnStopGetsExitCode_AndNextRequestStartsFresh()
    {
        await using var host = await StartAsync();
        (await host.Client.GetAsync("/c/quitter/exit?code=3")).EnsureSuccessStatusCode();

        var state = await Eventually.ValueAsync(() => Object(host, "quitter").GetStateAsync(), s => s.State == ContainerObjectState.StoppedWithCode, "the exit to be noticed");

        Assert.Equal(3, state.ExitCode);
        var stop = Assert.Single(host.Services.GetRequiredService<HookLog>().Stops);
        Assert.Equal(3, stop.ExitCode);
        Assert.Equal(StopReason.Exited, stop.Reason);
        Assert.Empty(await host.ContainersAsync());

        (await host.Client.GetAsync("/c/quitter/")).EnsureSuccessStatusCode();
        Assert.Equal(ContainerObjectState.Healthy, (await Object(host, "quitter").GetStateAsync()).State);
    }

    [Fact]
    public async Task Monitor_ContainerOomKilled_ReportsOutOfMemory()
    {
        await using var host = await StartAsync(o => o.InstanceType = InstanceType.Custom(1, 128, 1000));
        var container = Object(host, "hog");
        await container.StartAndWaitForPortsAsync();
        var monitor = container.MonitorAsync();

        _ = host.Client.GetAsync("/c/hog/alloc?mb=400");
        var stop = await monitor.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.NotNull(stop);
        Assert.Equal(StopReason.OutOfMemory, stop.Reason);
        Assert.Equal(137, stop.ExitCode);
        var state = await container.GetStateAsync();
        Assert.Equal(ContainerObjectState.StoppedWithCode, state.State);
        Assert.Equal("outofmemory", state.Reason);
    }

    [Fact]
    public async Task Stop_SigtermIgnored_KilledAfterGrace()
    {
        await using var host = await StartAsync(o => o.EnvVars["IGNORE_SIGTERM"] = "1");
        var container = Object(host, "stubborn");
        await container.StartAndWaitForPortsAsync();

        var watch = Stopwatch.StartNew();
        await container.StopAsync();
        watch.Stop();

        var state = await container.GetStateAsync();
        Assert.Equal(ContainerObjectState.StoppedWithCode, state.State);
        Assert.Equal(137, state.ExitCode);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1.9), $"stopped after {watch.Elapsed}, before the 2 s grace");
        Assert.Equal(StopReason.Requested, Assert.Single(host.Services.GetRequiredService<HookLog>().Stops).Reason);
    }

    [Fact]
    public async Task Stop_GracefulApp_ExitsOnSigtermWithinGrace()
    {
        await using var host = await StartAsync();
        var container = Object(host, "polite");
        await container.StartAndWaitForPortsAsync();

        await container.StopAsync();

        var state = await container.GetStateAsync();
        Assert.Equal(ContainerObjectState.Stopped, state.State);
        Assert.Equal(0, state.ExitCode);
        Assert.Empty(await host.ContainersAsync());
    }

    [Fact]
    public async Task State_SavedBeforeSleep_IsHandedToTheNextContainer()
    {
        await using var host = await BerthTestHost.StartAsync(
            berth => berth.AddContainer<StatefulContainer>(o =>
            {
                o.Image = fixture.Images.App;
                o.SleepAfter = TimeSpan.FromSeconds(1);
            }),
            app => app.MapContainer<StatefulContainer>("/s/{**rest}", _ => "keeper", stripPrefix: true));
        var ns = host.Services.GetRequiredService<ContainerNamespace<StatefulContainer>>();

        (await host.Client.PostAsync("/s/state", new StringContent("remember me"))).EnsureSuccessStatusCode();
        var first = Assert.Single(await host.ContainersAsync());
        await Eventually.ValueAsync(() => ns.GetByName("keeper").Object.GetStateAsync(), s => s.State == ContainerObjectState.Stopped, "sleep");

        var restored = await host.Client.GetStringAsync("/s/state");

        Assert.Equal("remember me", restored);
        Assert.NotEqual(first.Id, Assert.Single(await host.ContainersAsync()).Id);
    }
}
