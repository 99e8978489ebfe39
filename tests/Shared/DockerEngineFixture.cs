using Berth.Docker;

namespace Berth.Testing;

/// <summary>
/// The real Docker engine and the test images for a whole test assembly: removes what killed runs left on
/// start, builds whatever test image is missing, and removes this run's leftovers at the end. Linked as
/// source into each engine test project (xunit fixtures must live in the test assembly).
/// </summary>
public abstract class DockerEngineFixture : IAsyncLifetime
{
    public DockerContainerRuntime Runtime { get; } = new(new DockerRuntimeOptions());

    public TestImageSet Images { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Runtime.PingAsync();
        await TestResources.CleanupAsync(Runtime);
        Images = await TestImages.EnsureBuiltAsync(Runtime);
    }

    public async Task DisposeAsync()
    {
        await TestResources.CleanupAsync(Runtime);
        Runtime.Dispose();
    }
}
