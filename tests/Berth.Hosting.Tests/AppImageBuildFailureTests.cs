using Berth.Hosting.Tests.Support;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Berth.Hosting.Tests;

/// <summary>A failed image build is answered from memory until its inputs (Dockerfile, context files, image_vars) change.</summary>
public sealed class AppImageBuildFailureTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FailingBuilds _runtime = new();

    public AppImageBuildFailureTests()
    {
        _dir.Write("api/Dockerfile", "FROM scratch\nRUN exit 3\n");
        _dir.Write("api/server.py", "serve()\n");
    }

    public void Dispose() => _dir.Dispose();

    private BerthAppConfig Config(string port = "8080") => BerthConfigFile.Parse(
        $$"""{ "name": "demo", "containers": [ { "class_name": "My_Api", "image": "./api/Dockerfile", "image_vars": { "PORT": "{{port}}" } } ] }""",
        _dir.Path);

    private AppImageBuilder Builder(BerthAppConfig config) => new(_runtime, config, NullLogger<AppImageBuilder>.Instance);

    [Fact]
    public async Task EnsureImage_FailedBuildSameInputs_AnswersTheFailureWithoutBuilding()
    {
        var config = Config();
        var builder = Builder(config);
        var first = await Assert.ThrowsAsync<ContainerRuntimeException>(() => builder.EnsureImageAsync(config.Containers[0]));

        var second = await Assert.ThrowsAsync<ContainerRuntimeException>(() => builder.EnsureImageAsync(config.Containers[0]));
        var third = await Assert.ThrowsAsync<ContainerRuntimeException>(() => builder.EnsureImageAsync(config.Containers[0]));

        Assert.Equal(1, _runtime.Attempts);
        Assert.Equal(ContainerRuntimeError.BuildFailed, second.Error);
        Assert.StartsWith(
            "Container class 'My_Api': the image build failed and is not retried until the Dockerfile, its build context or image_vars change. ",
            second.Message, StringComparison.Ordinal);
        Assert.EndsWith(first.Message, second.Message, StringComparison.Ordinal);
        Assert.Equal(second.Message, third.Message);
    }

    [Fact]
    public async Task EnsureImage_ContextFileChangedAfterFailure_BuildsAgain()
    {
        var config = Config();
        var builder = Builder(config);
        await Assert.ThrowsAsync<ContainerRuntimeException>(() => builder.EnsureImageAsync(config.Containers[0]));
        _runtime.Fail = false;
        _dir.Write("api/server.py", "serve(fixed=True)\n");

        var image = await builder.EnsureImageAsync(config.Containers[0]);

        Assert.Equal(2, _runtime.Attempts);
        Assert.True(image.Built);
    }

    [Fact]
    public async Task EnsureImage_DockerfileChangedAfterFailure_BuildsAgain()
    {
        var config = Config();
        var builder = Builder(config);
        await Assert.ThrowsAsync<ContainerRuntimeException>(() => builder.EnsureImageAsync(config.Containers[0]));
        _runtime.Fail = false;
        _dir.Write("api/Dockerfile", "FROM scratch\n");

        var image = await builder.EnsureImageAsync(config.Containers[0]);

        Assert.Equal(2, _runtime.Attempts);
        Assert.True(image.Built);
    }

    [Fact]
    public async Task EnsureImage_BuildArgChangedAfterFailure_BuildsAgain()
    {
        var builder = Builder(Config());
        await Assert.ThrowsAsync<ContainerRuntimeException>(() => builder.EnsureImageAsync(Config().Containers[0]));

        await Assert.ThrowsAsync<ContainerRuntimeException>(() => builder.EnsureImageAsync(Config(port: "9090").Containers[0]));

        Assert.Equal(2, _runtime.Attempts);
    }

    [Fact]
    public async Task EnsureImage_NewInputsFailToo_TheirFailureIsRememberedInstead()
    {
        var builder = Builder(Config());
        await Assert.ThrowsAsync<ContainerRuntimeException>(() => builder.EnsureImageAsync(Config().Containers[0]));
        await Assert.ThrowsAsync<ContainerRuntimeException>(() => builder.EnsureImageAsync(Config(port: "9090").Containers[0]));

        await Assert.ThrowsAsync<ContainerRuntimeException>(() => builder.EnsureImageAsync(Config(port: "9090").Containers[0]));

        Assert.Equal(2, _runtime.Attempts);
    }

    [Fact]
    public async Task EnsureImage_EngineUnavailableDuringBuild_RetriedOnTheNextCall()
    {
        var config = Config();
        var builder = Builder(config);
        _runtime.FailWith = ContainerRuntimeError.EngineUnavailable;
        await Assert.ThrowsAsync<ContainerRuntimeException>(() => builder.EnsureImageAsync(config.Containers[0]));
        _runtime.Fail = false;

        var image = await builder.EnsureImageAsync(config.Containers[0]);

        Assert.Equal(2, _runtime.Attempts);
        Assert.True(image.Built);
    }

    /// <summary>The fake engine, with builds that fail (as the engine reports a failing step) while <see cref="Fail"/> is set.</summary>
    private sealed class FailingBuilds : IImageOperations
    {
        private readonly FakeContainerRuntime _inner = new();

        public bool Fail { get; set; } = true;

        public ContainerRuntimeError FailWith { get; set; } = ContainerRuntimeError.BuildFailed;

        public int Attempts { get; private set; }

        public Task<ImageInfo> BuildImageAsync(ImageBuildSpec spec, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
        {
            Attempts++;
            return Fail
                ? throw new ContainerRuntimeException(FailWith, $"Building image '{spec.Tags[0]}' failed at 'Step 2/2 : RUN exit 3': The command returned a non-zero code: 3")
                : _inner.BuildImageAsync(spec, progress, cancellationToken);
        }

        public Task<ImageInfo> ImportImageAsync(Stream rootfsTar, string reference, IReadOnlyDictionary<string, string>? labels = null, CancellationToken cancellationToken = default) =>
            _inner.ImportImageAsync(rootfsTar, reference, labels, cancellationToken);

        public Task<ImageInfo?> InspectImageAsync(string reference, CancellationToken cancellationToken = default) =>
            _inner.InspectImageAsync(reference, cancellationToken);

        public Task<IReadOnlyList<ImageInfo>> ListImagesAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default) =>
            _inner.ListImagesAsync(labels, cancellationToken);

        public Task RemoveImageAsync(string reference, bool force = false, CancellationToken cancellationToken = default) =>
            _inner.RemoveImageAsync(reference, force, cancellationToken);
    }
}
