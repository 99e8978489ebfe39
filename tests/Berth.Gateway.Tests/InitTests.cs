using System.Diagnostics;
using Berth.Containers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Gateway.Tests;

/// <summary>busybox <c>httpd -f</c> as the entrypoint: a plain server with no SIGTERM handler.</summary>
public sealed class HttpdContainer : Container
{
    public HttpdContainer()
    {
        DefaultPort = 8080;
        Entrypoint = ["httpd", "-f", "-p", "8080", "-h", "/tmp"];
    }
}

/// <summary>The engine's init process per class (<see cref="ContainerClassOptions.Init"/>) against a PID 1 that ignores SIGTERM.</summary>
[Collection(GatewayCollection.Name)]
public sealed class InitTests(GatewayFixture fixture)
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    private Task<BerthTestHost> StartAsync(LogRecorder recorder, bool? init) =>
        BerthTestHost.StartAsync(
            new BerthTestHostOptions
            {
                StopGracePeriod = Grace,
                ConfigureHost = builder => builder.Logging.AddProvider(recorder),
            },
            berth => berth.AddContainer<HttpdContainer>(o =>
            {
                o.Image = fixture.Images.Base;
                o.Init = init;
            }),
            _ => { },
            CancellationToken.None);

    [Fact]
    public async Task Stop_HttpdAsPid1WithInit_ExitsOnSigtermWellUnderTheGrace()
    {
        var recorder = new LogRecorder();
        await using var host = await StartAsync(recorder, init: true);
        var container = host.Services.GetRequiredService<ContainerNamespace<HttpdContainer>>().GetByName("web").Object;
        await container.StartAndWaitForPortsAsync();

        var watch = Stopwatch.StartNew();
        await container.StopAsync();
        watch.Stop();

        var state = await container.GetStateAsync();
        Assert.True(watch.Elapsed < Grace * 0.75, $"stop took {watch.Elapsed.TotalMilliseconds:0} ms of a {Grace.TotalSeconds} s grace");
        Assert.Contains(state.ExitCode, new int?[] { 0, 143 });
        Assert.DoesNotContain(recorder.Records, r => r.EventId.Name == "ContainerObjectKilledAfterGrace");
    }

    [Fact]
    public async Task Stop_HttpdAsPid1WithoutInit_KilledAfterGraceAndTheLogSaysWhy()
    {
        var recorder = new LogRecorder();
        await using var host = await StartAsync(recorder, init: null);
        var container = host.Services.GetRequiredService<ContainerNamespace<HttpdContainer>>().GetByName("web").Object;
        await container.StartAndWaitForPortsAsync();

        var watch = Stopwatch.StartNew();
        await container.StopAsync();
        watch.Stop();

        var state = await container.GetStateAsync();
        Assert.Equal(137, state.ExitCode);
        Assert.True(watch.Elapsed >= Grace * 0.95, $"stop took {watch.Elapsed.TotalMilliseconds:0} ms, less than the {Grace.TotalSeconds} s grace");
        var hint = Assert.Single(recorder.Records, r => r.EventId.Name == "ContainerObjectKilledAfterGrace");
        Assert.Equal(LogLevel.Warning, hint.Level);
        Assert.Contains("HttpdContainer web", hint.Message, StringComparison.Ordinal);
        Assert.Contains("PID 1", hint.Message, StringComparison.Ordinal);
        Assert.Contains("init: true", hint.Message, StringComparison.Ordinal);
    }
}
