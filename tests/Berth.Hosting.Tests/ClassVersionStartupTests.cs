using Berth.Containers;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Hosting.Tests;

/// <summary>A changed image at start-up is a deploy: recorded as a version and rolled out (issue 13 item 5).</summary>
public sealed class ClassVersionStartupTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeContainerRuntime _engine = new();
    private readonly SqliteClassVersionStore _store;
    private readonly RecordingCoordinator _coordinator = new();
    private readonly BerthAppConfig _config;

    public ClassVersionStartupTests()
    {
        _store = new SqliteClassVersionStore(Path.Combine(_dir.Path, "versions.db"), new FakeTimeProvider());
        _config = BerthConfigFile.Parse("""{ "name": "demo", "containers": [ { "class_name": "Api", "image": "my-api:1" } ] }""", _dir.Path);
        SetImage("sha256:1111");
    }

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    private void SetImage(string id) => _engine.Images["my-api:1"] = new ImageInfo(id, ["my-api:1"], new Dictionary<string, string>(), 10);

    private RegistryOptions _registry = new() { Enabled = false };

    private ClassVersionStartup Startup(bool withCoordinator, FakeLifetime lifetime)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IImageDistribution>(new NoDistribution());
        if (withCoordinator)
        {
            services.AddSingleton<IRolloutCoordinator>(_coordinator);
        }

        var provider = services.BuildServiceProvider();
        var deployer = new ClassDeployer(_store, new AppImageBuilder(_engine, _config, NullLogger<AppImageBuilder>.Instance), _engine, _config,
            Options.Create(_registry), provider, NullLogger<ClassDeployer>.Instance);
        return new ClassVersionStartup(deployer, _config, provider, lifetime, NullLogger<ClassVersionStartup>.Instance);
    }

    private async Task StartAsync(bool withCoordinator = true)
    {
        var lifetime = new FakeLifetime();
        using var startup = Startup(withCoordinator, lifetime);
        await startup.StartAsync(CancellationToken.None);
        lifetime.Started();
        await startup.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Start_FirstTime_RecordsVersionOneAsCurrentWithoutARollout()
    {
        await StartAsync();

        var version = Assert.Single(await _store.ListAsync("Api"));
        Assert.Equal((1, "my-api:1", "sha256:1111", "startup"), (version.Number, version.Image, version.Digest, version.Trigger));
        Assert.Equal(ClassDeployer.ConfigHash(_config.Containers[0]), version.ConfigHash);
        Assert.Equal(new ClassTraffic("Api", 1, null, 0), await _store.GetTrafficAsync("Api"));
        Assert.Empty(_coordinator.Requests);
    }

    [Fact]
    public async Task Start_SameImageAgain_RecordsNothing()
    {
        await StartAsync();

        await StartAsync();

        Assert.Single(await _store.ListAsync("Api"));
        Assert.Empty(_coordinator.Requests);
    }

    [Fact]
    public async Task Start_ImageChanged_RecordsVersionTwoAndRollsItOutOnceStarted()
    {
        await StartAsync();
        SetImage("sha256:2222");

        await StartAsync();

        var newest = (await _store.ListAsync("Api"))[0];
        Assert.Equal((2, "sha256:2222", "startup"), (newest.Number, newest.Digest, newest.Trigger));
        Assert.Equal([new RolloutRequest("Api", 2, 100, "startup")], _coordinator.Requests);
        // The coordinator moves the traffic as it rolls; until then v1 stays current.
        Assert.Equal(1, (await _store.GetTrafficAsync("Api"))!.Current);
    }

    [Fact]
    public async Task Start_ImageChangedWithoutACoordinator_MakesVersionTwoCurrent()
    {
        await StartAsync(withCoordinator: false);
        SetImage("sha256:2222");

        await StartAsync(withCoordinator: false);

        Assert.Equal(new ClassTraffic("Api", 2, null, 0), await _store.GetTrafficAsync("Api"));
    }

    [Fact]
    public async Task Start_ImageMissing_RecordsNothingAndStarts()
    {
        _engine.Images.Clear();

        await StartAsync();

        Assert.Empty(await _store.ListAsync("Api"));
    }

    [Fact]
    public async Task Start_RegistryEnabledButNothingListens_VersionUsesTheLocalTagWithoutAPush()
    {
        _registry = new RegistryOptions { Address = "127.0.0.1:9" };

        await StartAsync();

        var version = Assert.Single(await _store.ListAsync("Api"));
        Assert.Equal(("my-api:1", "sha256:1111"), (version.Image, version.Digest));
    }

    /// <summary>A registry client that must not be used: a push would wait on a dead registry.</summary>
    private sealed class NoDistribution : IImageDistribution
    {
        public Task<ImageInfo> BuildImageFromContextAsync(Stream contextTar, string dockerfile, IReadOnlyList<string> tags, IReadOnlyDictionary<string, string> labels,
            IProgress<string>? progress = null, CancellationToken cancellationToken = default) => throw new InvalidOperationException("no builds here");

        public Task TagImageAsync(string source, string target, CancellationToken cancellationToken = default) => throw new InvalidOperationException("no tag expected");

        public Task<string> PushImageAsync(string reference, CancellationToken cancellationToken = default) => throw new InvalidOperationException("no push expected");

        public Task PullImageAsync(string reference, CancellationToken cancellationToken = default) => throw new InvalidOperationException("no pull expected");

        public Task<IReadOnlyList<string>?> GetRepoDigestsAsync(string reference, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("no registry look-up expected");
    }

    private sealed class RecordingCoordinator : IRolloutCoordinator
    {
        public List<RolloutRequest> Requests { get; } = [];

        public Task<RolloutStatus> StartAsync(RolloutRequest request, CancellationToken cancellationToken = default)
        {
            Requests.Add(request);
            return Task.FromResult(new RolloutStatus(request.ClassName, 1, request.ToVersion, "running", [10, 100], 0, 0, 1,
                DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null));
        }

        public Task<RolloutStatus?> GetStatusAsync(string className, CancellationToken cancellationToken = default) => Task.FromResult<RolloutStatus?>(null);

        public Task<IReadOnlyList<RolloutStatus>> ListAsync(CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<RolloutStatus>>([]);
    }

    private sealed class FakeLifetime : IHostApplicationLifetime, IDisposable
    {
        private readonly CancellationTokenSource _started = new();

        public CancellationToken ApplicationStarted => _started.Token;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void Started() => _started.Cancel();

        public void StopApplication()
        {
        }

        public void Dispose() => _started.Dispose();
    }
}
