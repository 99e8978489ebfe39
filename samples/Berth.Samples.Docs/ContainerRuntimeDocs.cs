using Berth.Docker;
using Berth.Runtime;
using Berth.Testing;

namespace Berth.Samples.Docs;

/// <summary>docs/container-runtime.md.</summary>
internal static class ContainerRuntimeDocs
{
    public static void Register(IServiceCollection services)
    {
        // snippet: register
        services.AddDockerContainerRuntime(o =>
        {
            o.Endpoint = "unix:///var/run/docker.sock"; // default: DOCKER_HOST, else this socket
            o.RequestTimeout = TimeSpan.FromSeconds(100);  // short calls; waits, logs, builds are not bounded by it
            o.DefaultPidsLimit = 1024;                     // used when ContainerSpec.PidsLimit <= 0
            o.EnforceDiskLimits = true;                    // apply StorageOpt size where the engine can
        });
        // or without DI:
        using var runtime = new DockerContainerRuntime(new DockerRuntimeOptions());
        // end snippet: register
    }

    public static async Task<TestImageSet> TestImagesAsync(IContainerRuntime runtime, CancellationToken cancellationToken)
    {
        // snippet: test-images
        TestImageSet images = await TestImages.EnsureBuiltAsync(runtime, cancellationToken);
        // images.Base, images.App, images.IgnoreSigterm, images.MemoryHog
        // end snippet: test-images
        return images;
    }
}
