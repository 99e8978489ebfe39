using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Berth.Containers;
using Berth.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class StartOnDemandTests(GatewayFixture fixture)
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
            app => app.MapContainer<AppContainer>("/c/{id}/{**rest}", "id", stripPrefix: true));

    [Fact]
    public async Task FirstRequest_ContainerNotRunning_StartsItAndForwards()
    {
        await using var host = await StartAsync();

        using var response = await host.Client.GetAsync("/c/alpha/");
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var containers = await host.ContainersAsync();
        var container = Assert.Single(containers);
        Assert.Equal(Berth.Runtime.EngineContainerState.Running, container.State);
        var env = body.RootElement.GetProperty("env");
        var ns = host.Services.GetRequiredService<ContainerNamespace<AppContainer>>();
        Assert.Equal(ns.IdFromName("alpha").ToString(), env.GetProperty("BERTH_OBJECT_ID").GetString());
        Assert.Equal(nameof(AppContainer), env.GetProperty("BERTH_CLASS").GetString());
        Assert.Equal("local", env.GetProperty("BERTH_LOCATION").GetString());
        Assert.Equal("local", env.GetProperty("BERTH_REGION").GetString());
        Assert.Equal(ContainerObjectState.Healthy, (await ns.GetByName("alpha").Object.GetStateAsync()).State);
        Assert.Equal(1, host.Services.GetRequiredService<HookLog>().Starts);
    }

    [Fact]
    public async Task ConcurrentFirstRequests_SameId_StartOneContainer()
    {
        await using var host = await StartAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => host.Client.GetAsync("/c/shared/")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(await host.ContainersAsync());
        Assert.Equal(1, host.Services.GetRequiredService<HookLog>().Starts);
    }

    [Fact]
    public async Task FirstRequests_TwentyIds_StartTwentyContainers()
    {
        await using var host = await StartAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => host.Client.GetAsync($"/c/id-{i}/")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var containers = await host.ContainersAsync();
        Assert.Equal(20, containers.Count);
        Assert.Equal(20, containers.Select(c => c.Labels[BerthLabels.ObjectId]).Distinct().Count());
    }

    [Fact]
    public async Task Exec_RunningContainer_ReturnsOutputAndExitCode()
    {
        await using var host = await StartAsync();
        var stub = host.Services.GetRequiredService<ContainerNamespace<AppContainer>>().GetByName("exec");
        await stub.Object.StartAndWaitForPortsAsync();

        var ok = await stub.Object.ExecAsync(["/bin/sh", "-c", "echo out; echo err >&2; cat"], "piped"u8.ToArray());
        var failed = await stub.Object.ExecAsync(["/bin/sh", "-c", "exit 7"]);

        Assert.Equal(0, ok.ExitCode);
        Assert.Equal("out\npiped", ok.Stdout);
        Assert.Equal("err\n", ok.Stderr);
        Assert.Equal(7, failed.ExitCode);
    }

    [Fact]
    public async Task GetRandom_SpreadsRequests_OverAtMostNInstances()
    {
        await using var host = await BerthTestHost.StartAsync(
            berth =>
            {
                berth.Services.AddSingleton<HookLog>();
                berth.AddContainer<AppContainer>(o => o.Image = fixture.Images.App);
            },
            app => app.MapGet("/pool", (HttpContext ctx, ContainerNamespace<AppContainer> pool) =>
            {
                ctx.Request.Path = "/";
                return pool.GetRandom(3).FetchAsync(ctx);
            }));

        for (var i = 0; i < 30; i++)
        {
            (await host.Client.GetAsync("/pool")).EnsureSuccessStatusCode();
        }

        var containers = await host.ContainersAsync();
        Assert.InRange(containers.Count, 2, 3);
    }

    [Fact]
    public async Task Schedule_Every_CallsMethodRepeatedly()
    {
        await using var host = await BerthTestHost.StartAsync(
            berth => berth.AddContainer<TickingContainer>(o => o.Image = fixture.Images.App),
            _ => { });
        var ns = host.Services.GetRequiredService<ContainerNamespace<TickingContainer>>();
        var ticker = ns.Get<ITickingContainer>(ns.IdFromName("ticker"));

        await ticker.StartTickingAsync(TimeSpan.FromMilliseconds(200));

        await Eventually.ValueAsync(ticker.TicksAsync, t => t >= 3, "three scheduled ticks");
    }
}
