using Berth.Runtime;
using Berth.Testing;

namespace Berth.Hosting.EndToEnd.Tests;

/// <summary>The engine and the test images, shared by every test of the assembly.</summary>
public sealed class EndToEndFixture : DockerEngineFixture, IAsyncLifetime
{
    /// <summary>Removes the images Berth built for <paramref name="appName"/> (labelled <c>berth.app</c>; they cannot carry <c>berth.test</c>).</summary>
    public static async Task RemoveAppImagesAsync(IContainerRuntime runtime, string appName)
    {
        foreach (var image in await runtime.ListImagesAsync(new Dictionary<string, string> { [BerthLabels.App] = appName }))
        {
            try
            {
                await runtime.RemoveImageAsync(image.Id, force: true);
            }
            catch (ContainerRuntimeException)
            {
                // Best effort: a leftover carries the unique test app name and is easy to spot.
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class EndToEndCollection : ICollectionFixture<EndToEndFixture>
{
    public const string Name = "End to end on the Docker engine";
}
