using System.Net;
using System.Net.Sockets;
using Berth.Containers;
using Berth.Hosting.Tests.Support;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;

namespace Berth.Hosting.Tests;

/// <summary>The host side of <c>berth dev</c>: debounced rebuilds of changed build contexts, replacing outdated containers.</summary>
public sealed class DevImageWatcherTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeContainerRuntime _runtime = new();
    private readonly FakeTimeProvider _time = new();
    private readonly BerthAppConfig _config;
    private readonly ServiceProvider _services = new ServiceCollection().BuildServiceProvider();

    public DevImageWatcherTests()
    {
        _dir.Write("api/Dockerfile", "FROM scratch\n");
        _dir.Write("api/server.py", "serve()\n");
        _config = BerthConfigFile.Parse("""{ "name": "demo", "containers": [ { "class_name": "Api", "image": "./api/Dockerfile" } ] }""", _dir.Path);
    }

    public void Dispose()
    {
        _services.Dispose();
        _dir.Dispose();
    }

    private DevImageWatcher Watcher() => new(
        _config,
        new AppImageBuilder(_runtime, _config, NullLogger<AppImageBuilder>.Instance),
        new ContainerClassRegistry(),
        _runtime,
        Options.Create(new ContainerOptions { AppName = "demo", NodeId = FakeContainerRuntime.DefaultNodeId }),
        _services,
        _time,
        NullLogger<DevImageWatcher>.Instance);

    [Fact]
    public async Task Debouncer_BurstOfChanges_OneCallAfterTheQuietPeriod()
    {
        var calls = new List<string>();
        using var debouncer = new ChangeDebouncer(TimeSpan.FromMilliseconds(300), _time, (key, _) => { calls.Add(key); return Task.CompletedTask; }, CancellationToken.None);

        debouncer.Changed("Api");
        _time.Advance(TimeSpan.FromMilliseconds(200));
        debouncer.Changed("Api");
        _time.Advance(TimeSpan.FromMilliseconds(200));
        debouncer.Changed("Api");
        _time.Advance(TimeSpan.FromMilliseconds(299));
        Assert.Empty(calls);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await debouncer.IdleAsync();

        Assert.Equal(["Api"], calls);
    }

    [Fact]
    public async Task Debouncer_TwoKeys_EachCalledOnce()
    {
        var calls = new List<string>();
        using var debouncer = new ChangeDebouncer(TimeSpan.FromMilliseconds(300), _time, (key, _) => { calls.Add(key); return Task.CompletedTask; }, CancellationToken.None);

        debouncer.Changed("Api");
        debouncer.Changed("Worker");
        debouncer.Changed("Api");
        _time.Advance(TimeSpan.FromMilliseconds(300));
        await debouncer.IdleAsync();

        Assert.Equal(["Api", "Worker"], calls.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Debouncer_QuietPeriodEndsDuringACall_OneMoreCallAfterIt()
    {
        var calls = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var debouncer = new ChangeDebouncer(TimeSpan.FromMilliseconds(300), _time, async (_, _) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                await release.Task;
            }
        }, CancellationToken.None);
        debouncer.Changed("Api");
        _time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(1, calls);

        debouncer.Changed("Api");
        _time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(1, calls);
        release.SetResult();
        await debouncer.IdleAsync();
        _time.Advance(TimeSpan.FromMilliseconds(300));
        await debouncer.IdleAsync();

        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task Rebuild_ContextUnchanged_NoBuild()
    {
        using var watcher = Watcher();
        await watcher.StartAsync(CancellationToken.None);

        await watcher.RebuildIfChangedAsync("Api", CancellationToken.None);

        Assert.Empty(_runtime.Builds);
        await watcher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Rebuild_ContextChanged_BuildsAndStopsTheOutdatedRunningContainers()
    {
        var outdated = _runtime.AddContainer("demo", "Api", "obj-1");
        var stopped = _runtime.AddContainer("demo", "Api", "obj-2", EngineContainerState.Exited);
        var otherClass = _runtime.AddContainer("demo", "Worker", "obj-3");
        using var watcher = Watcher();
        await watcher.StartAsync(CancellationToken.None);
        _dir.Write("api/server.py", "serve(new=True)\n");

        await watcher.RebuildIfChangedAsync("Api", CancellationToken.None);

        var build = Assert.Single(_runtime.Builds);
        Assert.Equal(ImageContentHash.Compute((DockerfileImage)_config.Containers[0].Image), BerthNames.ImageVersion(build.Tags[0]));
        Assert.Equal([outdated.Id], _runtime.Stops.Select(s => s.ContainerId));
        Assert.Equal(ContainerSignal.SIGTERM, _runtime.Stops[0].Options.Signal);
        Assert.DoesNotContain(_runtime.Stops, s => s.ContainerId == stopped.Id || s.ContainerId == otherClass.Id);
        await watcher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Rebuild_SameChangeSeenTwice_BuildsOnce()
    {
        using var watcher = Watcher();
        await watcher.StartAsync(CancellationToken.None);
        _dir.Write("api/server.py", "serve(new=True)\n");

        await watcher.RebuildIfChangedAsync("Api", CancellationToken.None);
        await watcher.RebuildIfChangedAsync("Api", CancellationToken.None);

        Assert.Single(_runtime.Builds);
        await watcher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Stop_DevHost_StopsEveryRunningContainerOfThisNode()
    {
        var mine = _runtime.AddContainer("demo", "Api", "obj-1");
        var otherNode = _runtime.AddContainer("demo", "Api", "obj-2", nodeId: "node-2");
        using var watcher = Watcher();
        await watcher.StartAsync(CancellationToken.None);

        await watcher.StopAsync(CancellationToken.None);

        Assert.Equal([mine.Id], _runtime.Stops.Select(s => s.ContainerId));
        Assert.DoesNotContain(_runtime.Stops, s => s.ContainerId == otherNode.Id);
    }

    [Fact]
    public async Task PortCheck_SiloPortTaken_FailsNamingThePortAndTheSetting()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var check = new ClusterPortCheck(
            Options.Create(new EndpointOptions { AdvertisedIPAddress = IPAddress.Loopback, SiloPort = port, GatewayPort = 0 }),
            NullLogger<ClusterPortCheck>.Instance);

        var error = await Assert.ThrowsAsync<BerthStartupException>(() => check.StartAsync(CancellationToken.None));

        Assert.Equal(
            $"Berth cannot listen on its Orleans silo port 127.0.0.1:{port} (it is in use; is another Berth app or host running on this machine?). "
            + "Set Berth:Cluster:SiloPort (environment variable Berth__Cluster__SiloPort) to a free port.",
            error.Message);
    }
}
