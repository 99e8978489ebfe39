using Berth.Runtime;
using Berth.Testing;
using Berth.Hosting.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Berth.Hosting.Tests;

public sealed class AppImageBuilderTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeContainerRuntime _runtime = new();

    public AppImageBuilderTests()
    {
        _dir.Write("api/Dockerfile", "FROM scratch\nARG PORT\n");
        _dir.Write("api/server.py", "serve()\n");
    }

    public void Dispose() => _dir.Dispose();

    private AppImageBuilder Builder(BerthAppConfig config) => new(_runtime, config, NullLogger<AppImageBuilder>.Instance);

    private BerthAppConfig Config(string image = "./api/Dockerfile") => BerthConfigFile.Parse(
        $$"""{ "name": "demo", "containers": [ { "class_name": "My_Api", "image": "{{image}}", {{(image.EndsWith("Dockerfile", StringComparison.Ordinal) ? "\"image_vars\": { \"PORT\": \"8080\" }" : "\"max_instances\": 1")}} } ] }""",
        _dir.Path);

    [Fact]
    public async Task EnsureImage_NoImageWithTheHashTag_BuildsAndLabelsIt()
    {
        var config = Config();

        var image = await Builder(config).EnsureImageAsync(config.Containers[0]);

        var build = Assert.Single(_runtime.Builds);
        var hash = ImageContentHash.Compute((DockerfileImage)config.Containers[0].Image);
        Assert.Equal(new AppImage("My_Api", $"berth-demo-my-api:{hash}", hash, Built: true), image);
        Assert.Equal(Path.Combine(_dir.Path, "api"), build.ContextDirectory);
        Assert.Equal("Dockerfile", build.Dockerfile);
        Assert.Equal([image.Reference], build.Tags);
        Assert.Equal("8080", build.BuildArgs["PORT"]);
        Assert.Equal(
            new Dictionary<string, string> { [BerthLabels.Managed] = "1", [BerthLabels.App] = "demo", [BerthLabels.Class] = "My_Api", [BerthLabels.Version] = hash },
            build.Labels);
    }

    [Fact]
    public async Task EnsureImage_NothingChanged_CacheHitWithoutBuild()
    {
        var config = Config();
        var first = await Builder(config).EnsureImageAsync(config.Containers[0]);

        var second = await Builder(Config()).EnsureImageAsync(config.Containers[0]);

        Assert.Single(_runtime.Builds);
        Assert.Equal(first with { Built = false }, second);
    }

    [Fact]
    public async Task EnsureImage_ContextChanged_BuildsNewTagAndDropsTheOld()
    {
        var config = Config();
        var first = await Builder(config).EnsureImageAsync(config.Containers[0]);
        _dir.Write("api/server.py", "serve(port=9090)\n");

        var second = await Builder(config).EnsureImageAsync(config.Containers[0]);

        Assert.Equal(2, _runtime.Builds.Count);
        Assert.True(second.Built);
        Assert.NotEqual(first.Reference, second.Reference);
        Assert.Null(await _runtime.InspectImageAsync(first.Reference));
        Assert.NotNull(await _runtime.InspectImageAsync(second.Reference));
    }

    [Fact]
    public async Task EnsureImage_EarlierImageCannotBeRemoved_BuiltImageReturnedAndRemovalWarned()
    {
        var config = Config();
        var first = await Builder(config).EnsureImageAsync(config.Containers[0]);
        _dir.Write("api/server.py", "serve(port=9090)\n");
        // The engine refuses the old tag (here as it refused the "<none>:<none>" placeholder on the demo's first start).
        _runtime.ImageRemovalErrors[first.Reference] = new ContainerRuntimeException(ContainerRuntimeError.InvalidSpec,
            "The Docker engine refused the request: invalid reference format");
        using var logs = new LogCapture();
        using var factory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(logs));

        var second = await new AppImageBuilder(_runtime, config, factory.CreateLogger<AppImageBuilder>()).EnsureImageAsync(config.Containers[0]);

        Assert.True(second.Built);
        Assert.NotNull(await _runtime.InspectImageAsync(second.Reference));
        var warning = Assert.Single(logs.Messages, m => m.StartsWith("Warning: Could not remove", StringComparison.Ordinal));
        Assert.Contains(first.Reference, warning, StringComparison.Ordinal);
        Assert.Contains("invalid reference format", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureImage_ReferencedImagePresent_UsesItWithoutBuilding()
    {
        _runtime.Images["busybox:1.36"] = new ImageInfo("sha256:0123456789abcdef0123", ["busybox:1.36"], new Dictionary<string, string>(), 1);
        var config = Config("busybox:1.36");

        var image = await Builder(config).EnsureImageAsync(config.Containers[0]);

        Assert.Equal(new AppImage("My_Api", "busybox:1.36", "0123456789ab", Built: false), image);
        Assert.Empty(_runtime.Builds);
    }

    [Fact]
    public async Task EnsureImage_ReferencedImageMissing_ThrowsImageNotFoundNamingIt()
    {
        var config = Config("busybox:1.36");

        var ex = await Assert.ThrowsAsync<ContainerRuntimeException>(() => Builder(config).EnsureImageAsync(config.Containers[0]));

        Assert.Equal(ContainerRuntimeError.ImageNotFound, ex.Error);
        Assert.Contains("'busybox:1.36'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureAll_EveryClass_OneImageEach()
    {
        var images = await Builder(Config()).EnsureAllAsync();

        Assert.Equal("My_Api", Assert.Single(images).ClassName);
    }
}
