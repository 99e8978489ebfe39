using Berth.Runtime;
using Berth.Testing;

namespace Berth.Docker.Tests;

/// <summary>One driver and the test images for every test; removes leftovers of earlier, killed runs first.</summary>
public sealed class EngineFixture : DockerEngineFixture, IAsyncLifetime;

[CollectionDefinition(Name)]
public sealed class EngineCollection : ICollectionFixture<EngineFixture>
{
    public const string Name = "Docker engine";
}

/// <summary>
/// Base of the engine tests: creates containers, networks and images with the test labels and removes
/// every one of them when the test ends.
/// </summary>
[Collection(EngineCollection.Name)]
public abstract class EngineTest(EngineFixture fixture) : IAsyncLifetime
{
    protected static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private readonly List<string> _containers = [];
    private readonly List<string> _networks = [];
    private readonly List<string> _images = [];

    // No connection reuse: containers come and go at the same addresses (each test's network reuses a freed subnet), and a
    // kept-alive connection to a removed container is answered by the next one at its address with a reset (CI saw it).
    protected static HttpClient Http { get; } = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(30) };

    protected DockerContainerRuntime Runtime => fixture.Runtime;

    protected TestImageSet Images => fixture.Images;

    protected static string UniqueName(string prefix) => $"berth-test-{prefix}-{Guid.NewGuid():N}";

    protected ContainerSpec Spec(string image, params string[] command) => new()
    {
        Name = UniqueName("c"),
        Image = image,
        Command = command.Length == 0 ? null : command,
        Labels = TestResources.Labels(),
        InstanceType = InstanceType.Basic,
    };

    protected ContainerSpec AppSpec(IReadOnlyDictionary<string, string>? environment = null) =>
        Spec(Images.App) with
        {
            Ports = [TestImages.AppPort],
            PublishPorts = true,
            Environment = environment ?? new Dictionary<string, string>(),
        };

    protected async Task<string> CreateAsync(ContainerSpec spec)
    {
        var id = await Runtime.CreateAsync(spec);
        _containers.Add(id);
        return id;
    }

    protected async Task<string> RunAsync(ContainerSpec spec)
    {
        var id = await CreateAsync(spec);
        await Runtime.StartAsync(id);
        return id;
    }

    /// <summary>Starts the app and waits until it logs that it listens; returns its ID and loopback URI.</summary>
    protected async Task<(string Id, Uri Uri)> RunAppAsync(IReadOnlyDictionary<string, string>? environment = null)
    {
        var id = await RunAsync(AppSpec(environment));
        await ContainerWaits.WaitForLogAsync(Runtime, id, "listening on", Generous);
        return (id, await ContainerWaits.GetPublishedUriAsync(Runtime, id, TestImages.AppPort));
    }

    /// <summary>Waits for the exit with a generous bound, so a container that never exits fails the test instead of hanging it.</summary>
    protected async Task<ContainerExit> WaitForExitAsync(string id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        return await Runtime.WaitForExitAsync(id, timeout.Token);
    }

    protected void TrackNetwork(string id) => _networks.Add(id);

    protected void TrackImage(string reference) => _images.Add(reference);

    protected async Task<List<LogLine>> ReadLogsAsync(string id, LogOptions? options = null)
    {
        var lines = new List<LogLine>();
        using var timeout = new CancellationTokenSource(Generous);
        await foreach (var line in Runtime.GetLogsAsync(id, options ?? new LogOptions(), timeout.Token))
        {
            lines.Add(line);
        }

        return lines;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var id in _containers)
        {
            await Runtime.RemoveAsync(id);
        }

        foreach (var id in _networks)
        {
            await Runtime.RemoveNetworkAsync(id);
        }

        foreach (var reference in _images)
        {
            await Runtime.RemoveImageAsync(reference, force: true);
        }
    }
}
