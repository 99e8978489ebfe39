using System.Net;
using Berth.Containers;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway.Tests;

/// <summary>
/// A process that fills its disk (issue 12 item 4) on an engine that cannot bound a writable layer (overlay2 on ext4, as here):
/// the node's disk watch kills it with a clear reason, and the node and its neighbour keep serving.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class DiskWatchTests(GatewayFixture fixture)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private Task<BerthTestHost> StartAsync() =>
        BerthTestHost.StartAsync(
            berth =>
            {
                berth.Services.AddSingleton<HookLog>();
                berth.AddContainer<AppContainer>(o =>
                {
                    o.Image = fixture.Images.App;
                    o.InstanceType = InstanceType.Custom(1, 256, 50);
                });
                berth.ConfigureContainers(o => o.DiskWatchInterval = Interval);
            },
            app => app.MapContainer<AppContainer>("/d/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true));

    [Fact]
    public async Task DiskFiller_WritingPastItsDiskOutsideScratch_IsKilledWithTheReasonWhileTheNeighbourAnswers()
    {
        await using var host = await StartAsync();
        (await host.Client.GetAsync("/d/neighbour/")).EnsureSuccessStatusCode();
        (await host.Client.GetAsync("/d/filler/")).EnsureSuccessStatusCode();
        var objects = host.Services.GetRequiredService<ContainerNamespace<AppContainer>>();
        var fillerId = objects.IdFromName("filler").ToString();
        var filler = Assert.Single(await host.ContainersAsync(fillerId));

        // 200 MB into the writable layer (/var/tmp is not a scratch tmpfs), four times its 50 MB disk.
        var write = ExecAsync(host, filler.Id, "dd if=/dev/zero of=/var/tmp/fill bs=1M count=200 && sync && sleep 60");

        var stopped = await Eventually.ValueAsync(() => objects.GetByName("filler").Object.GetStateAsync(),
            s => s.State is ContainerObjectState.StoppedWithCode or ContainerObjectState.Stopped, "the filler to be stopped", TimeSpan.FromSeconds(30));
        Assert.Equal(filler.Id, stopped.ContainerId);
        Assert.Equal(ContainerObjectState.StoppedWithCode, stopped.State);
        Assert.Equal(137, stopped.ExitCode);
        Assert.Matches(@"^wrote \d+ MB to its writable layer, over its 50 MB disk$", stopped.Reason);
        var stop = Assert.Single(host.Services.GetRequiredService<HookLog>().Stops);
        Assert.Equal(StopReason.DiskLimitExceeded, stop.Reason);
        await SwallowAsync(write);

        // The neighbour answered throughout; the filler's next request gets a fresh container with an empty layer.
        using var neighbour = await host.Client.GetAsync("/d/neighbour/");
        Assert.Equal(HttpStatusCode.OK, neighbour.StatusCode);
        using var again = await host.Client.GetAsync("/d/filler/");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var fresh = Assert.Single(await host.ContainersAsync(fillerId));
        Assert.NotEqual(filler.Id, fresh.Id);
        Assert.Equal(1, await ExecAsync(host, fresh.Id, "test -e /var/tmp/fill"));
    }

    private static async Task<int> ExecAsync(BerthTestHost host, string id, string script)
    {
        using var output = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        return await host.Runtime.ExecAsync(id, new ExecSpec { Command = ["/bin/sh", "-c", script] }, new ExecStreams(Stdout: output, Stderr: output), timeout.Token);
    }

    private static async Task SwallowAsync(Task<int> exec)
    {
        try
        {
            // The kill ends the exec with the container: whatever it reports, it no longer runs.
            await exec.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception ex) when (ex is ContainerRuntimeException or OperationCanceledException or TimeoutException)
        {
        }
    }
}
