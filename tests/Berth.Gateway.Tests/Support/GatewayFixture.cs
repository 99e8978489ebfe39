using Berth.Docker;
using Berth.Testing;

namespace Berth.Gateway.Tests;

/// <summary>The engine and the test images, shared by every test of the assembly.</summary>
public sealed class GatewayFixture : IAsyncLifetime
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

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "Gateway on the Docker engine";
}
