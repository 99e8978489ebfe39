using Berth.Docker;

namespace Berth.Testing;

/// <summary>
/// The real Docker engine and the test images for a whole test assembly: removes what killed runs left on
/// start, builds whatever test image is missing, and removes this run's leftovers at the end. xunit fixtures
/// must live in the test assembly, so each engine test project declares
/// <c>public sealed class MyFixture : DockerEngineFixture, IAsyncLifetime;</c> (these public methods implement it).
/// </summary>
public abstract class DockerEngineFixture
{
    /// <summary>The engine driver, with default options (the local engine).</summary>
    public DockerContainerRuntime Runtime { get; } = new(new DockerRuntimeOptions());

    /// <summary>The test images, available after <see cref="InitializeAsync"/>.</summary>
    public TestImageSet Images { get; private set; } = null!;

    /// <summary>Pings the engine, removes leftovers of killed runs and builds missing test images.</summary>
    public async Task InitializeAsync()
    {
        await Runtime.PingAsync();
        await TestResources.CleanupAsync(Runtime);
        Images = await TestImages.EnsureBuiltAsync(Runtime);
    }

    /// <summary>Removes this run's leftovers and releases the driver.</summary>
    public async Task DisposeAsync()
    {
        await TestResources.CleanupAsync(Runtime);
        Runtime.Dispose();
    }
}
