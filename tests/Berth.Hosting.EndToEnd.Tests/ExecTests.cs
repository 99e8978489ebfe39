using Berth.Containers;
using Berth.Gateway;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Hosting.EndToEnd.Tests;

/// <summary>The test app with a very short sleep, to see what an exec longer than <c>SleepAfter</c> does.</summary>
public sealed class QuickSleeper : Container
{
    public QuickSleeper()
    {
        DefaultPort = 8080;
        SleepAfter = TimeSpan.FromSeconds(2);
    }
}

/// <summary>Exec as an RPC on a container object (what the sandbox sample does).</summary>
[Collection(EndToEndCollection.Name)]
public sealed class ExecTests(EndToEndFixture fixture) : IAsyncLifetime
{
    private readonly AppDirectory _app = new();
    private BerthTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _app.WriteConfig($$"""
            { "name": "{{_app.AppName}}", "containers": [ { "class_name": "QuickSleeper", "image": "{{fixture.Images.App}}" } ] }
            """);
        _host = await _app.StartHostAsync(berth => berth.AddContainer<QuickSleeper>(), _ => { });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _app.Delete();
    }

    [Fact]
    public async Task ExecAsync_NoContainerRunning_ThrowsUntilStarted()
    {
        var sandbox = _host.Services.GetRequiredService<ContainerNamespace<QuickSleeper>>().GetByName("not-started");

        await Assert.ThrowsAsync<InvalidOperationException>(() => sandbox.Object.ExecAsync(["echo", "hi"]));

        await sandbox.Object.StartAndWaitForPortsAsync();
        var result = await sandbox.Object.ExecAsync(["sh", "-c", "echo hi; echo err >&2; exit 4"]);
        Assert.Equal(4, result.ExitCode);
        Assert.Equal("hi\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
    }

    [Fact]
    public async Task ExecAsync_StdinGiven_ReachesTheCommand()
    {
        var sandbox = _host.Services.GetRequiredService<ContainerNamespace<QuickSleeper>>().GetByName("stdin");
        await sandbox.Object.StartAndWaitForPortsAsync();

        var result = await sandbox.Object.ExecAsync(["wc", "-c"], "12345"u8.ToArray());

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("5", result.Stdout.Trim());
    }

    [Fact]
    public async Task ExecAsync_CommandOutlastsSleepAfter_CompletesInARunningContainer()
    {
        var sandbox = _host.Services.GetRequiredService<ContainerNamespace<QuickSleeper>>().GetByName("long-exec");
        await sandbox.Object.StartAndWaitForPortsAsync();

        // Runs three times SleepAfter with no HTTP request: the command is the activity.
        var result = await sandbox.Object.ExecAsync(["sh", "-c", "sleep 6; echo done"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("done\n", result.Stdout);
    }
}
