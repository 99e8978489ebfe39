using System.Diagnostics;
using Berth.Runtime;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

/// <summary>
/// Makes sure each container class's image exists on the engine. Dockerfile images are tagged with their
/// <see cref="ImageContentHash"/> and built only when no image with that tag exists yet.
/// </summary>
public sealed partial class AppImageBuilder(IImageOperations runtime, BerthAppConfig config, ILogger<AppImageBuilder> logger)
{
    /// <summary>Ensures the images of every container class in the config, one after another.</summary>
    public async Task<IReadOnlyList<AppImage>> EnsureAllAsync(CancellationToken cancellationToken = default)
    {
        var images = new List<AppImage>(config.Containers.Count);
        foreach (var container in config.Containers)
        {
            images.Add(await EnsureImageAsync(container, cancellationToken));
        }

        return images;
    }

    /// <summary>Ensures the image of one container class, building it on a cache miss.</summary>
    /// <exception cref="ContainerRuntimeException">The referenced image is missing (<see cref="ContainerRuntimeError.ImageNotFound"/>) or the build failed.</exception>
    public async Task<AppImage> EnsureImageAsync(ContainerConfig container, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        switch (container.Image)
        {
            case ImageReference { Reference: var reference }:
                var info = await runtime.InspectImageAsync(reference, cancellationToken)
                    ?? throw new ContainerRuntimeException(ContainerRuntimeError.ImageNotFound,
                        $"Container class '{container.ClassName}': image '{reference}' is not on the engine. Build or import it first, or set image to a Dockerfile path.");
                return new AppImage(container.ClassName, reference, ShortId(info.Id), Built: false);

            case DockerfileImage build:
                var version = ImageContentHash.Compute(build);
                var tag = $"{BerthNames.ImageRepository(config.Name, container.ClassName)}:{version}";
                if (await runtime.InspectImageAsync(tag, cancellationToken) is not null)
                {
                    Log.CacheHit(logger, container.ClassName, tag);
                    return new AppImage(container.ClassName, tag, version, Built: false);
                }

                Log.Building(logger, container.ClassName, tag, build.DockerfilePath);
                var spec = new ImageBuildSpec
                {
                    ContextDirectory = build.ContextDirectory,
                    Dockerfile = Path.GetRelativePath(build.ContextDirectory, build.DockerfilePath).Replace('\\', '/'),
                    Tags = [tag],
                    BuildArgs = build.BuildArgs,
                    Labels = BerthNames.ForImage(config.Name, container.ClassName, version),
                };
                var started = Stopwatch.GetTimestamp();
                await runtime.BuildImageAsync(spec, new LogProgress(logger, container.ClassName), cancellationToken);
                Log.Built(logger, container.ClassName, tag, Stopwatch.GetElapsedTime(started).TotalSeconds);
                await RemoveReplacedAsync(container.ClassName, version, cancellationToken);
                return new AppImage(container.ClassName, tag, version, Built: true);

            default:
                throw new ArgumentException($"Unknown image source {container.Image.GetType().Name}.", nameof(container));
        }
    }

    /// <summary>Removes this class's earlier builds; one a container still runs stays until a later build finds it unused.</summary>
    private async Task RemoveReplacedAsync(string className, string currentVersion, CancellationToken cancellationToken)
    {
        foreach (var image in await runtime.ListImagesAsync(BerthNames.ForClass(config.Name, className), cancellationToken))
        {
            if (BerthNames.Label(image.Labels, BerthLabels.Version) == currentVersion)
            {
                continue;
            }

            try
            {
                await runtime.RemoveImageAsync(image.Id, force: false, cancellationToken);
            }
            catch (ContainerRuntimeException ex) when (ex.Error == ContainerRuntimeError.Conflict)
            {
                // In use by a running container.
            }
        }
    }

    private static string ShortId(string id)
    {
        var hex = id.StartsWith("sha256:", StringComparison.Ordinal) ? id[7..] : id;
        return hex.Length > ImageContentHash.Length ? hex[..ImageContentHash.Length] : hex;
    }

    /// <summary>Logs build output as it arrives, on the caller's thread (unlike <see cref="Progress{T}"/>).</summary>
    private sealed class LogProgress(ILogger logger, string className) : IProgress<string>
    {
        public void Report(string value) => Log.BuildOutput(logger, className, value.TrimEnd());
    }
}
