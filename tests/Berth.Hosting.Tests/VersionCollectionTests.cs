using Berth.Containers;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Hosting.Tests;

/// <summary>Image garbage collection: versions older than the last N that nothing runs are removed; running ones stay.</summary>
public sealed class VersionCollectionTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeContainerRuntime _engine = new();
    private readonly SqliteClassVersionStore _store;
    private readonly ClassDeployer _deployer;

    public VersionCollectionTests()
    {
        _store = new SqliteClassVersionStore(Path.Combine(_dir.Path, "versions.db"), new FakeTimeProvider());
        var config = BerthConfigFile.Parse("""{ "name": "demo", "containers": [ { "class_name": "Api", "image": "img:1" } ] }""", _dir.Path);
        var services = new ServiceCollection().AddSingleton<IContainerOperations>(_engine).BuildServiceProvider();
        _deployer = new ClassDeployer(_store, new AppImageBuilder(_engine, config, NullLogger<AppImageBuilder>.Instance), _engine, config,
            Options.Create(new RegistryOptions { Enabled = false, KeepVersions = 3 }), services, NullLogger<ClassDeployer>.Instance);
    }

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    private async Task RecordAsync(int count)
    {
        for (var n = 1; n <= count; n++)
        {
            _engine.Images[$"img:{n}"] = new ImageInfo($"sha256:{n}", [$"img:{n}"], new Dictionary<string, string>(), 1);
            await _store.RecordAsync("Api", $"img:{n}", $"sha256:{n}", "h", "deploy");
        }
    }

    private void Run(string versionLabel, string image)
    {
        var container = _engine.AddContainer("demo", "Api", Guid.NewGuid().ToString("N"));
        _engine.Containers.Remove(container);
        _engine.Containers.Add(container with { Image = image, Labels = new Dictionary<string, string>(container.Labels) { [BerthLabels.Version] = versionLabel } });
    }

    [Fact]
    public async Task Collect_SevenVersionsKeepThree_RemovesOldUnusedOnesFromEngineAndStore()
    {
        await RecordAsync(7);
        await _store.SetTrafficAsync(new ClassTraffic("Api", 7, null, 0));
        Run("2", "img:2");           // labelled with its number
        Run("other", "img:3");       // created from its image

        var removed = await _deployer.CollectAsync("Api");

        Assert.Equal([4, 1], removed);
        Assert.Equal([7, 6, 5, 3, 2], (await _store.ListAsync("Api")).Select(v => v.Number));
        Assert.False(_engine.Images.ContainsKey("img:1"));
        Assert.False(_engine.Images.ContainsKey("img:4"));
        Assert.True(_engine.Images.ContainsKey("img:2"));
        Assert.True(_engine.Images.ContainsKey("img:3"));
    }

    [Fact]
    public async Task Collect_RolledBackToAnOldVersion_KeepsTheCurrentOne()
    {
        await RecordAsync(6);
        await _store.SetTrafficAsync(new ClassTraffic("Api", 1, null, 0));

        var removed = await _deployer.CollectAsync("Api");

        Assert.Equal([3, 2], removed);
        Assert.Equal([6, 5, 4, 1], (await _store.ListAsync("Api")).Select(v => v.Number));
    }
}
