using System.Collections.Concurrent;
using System.Diagnostics;
using Berth.Runtime;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

/// <summary>
/// Makes sure each container class's image exists on the engine. Dockerfile images are tagged with their
/// <see cref="ImageContentHash"/> and built only when no image with that tag exists yet. A build that failed is
/// remembered by that hash and answered with the same error, without building again, until the inputs change.
/// Build steps (<c>Step 3/7 : RUN ...</c>) are logged at Information as they run; the rest of the output at Debug.
/// </summary>
public sealed partial class AppImageBuilder(IImageOperations runtime, BerthAppConfig config, ILogger<AppImageBuilder> logger)
{
    private readonly ConcurrentDictionary<string, FailedBuild> _failures = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _building = new(StringComparer.Ordinal);

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

    /// <summary>Ensures the image of one container class, building it on a cache miss (one build per class at a time).</summary>
    /// <exception cref="ContainerRuntimeException">The referenced image is missing (<see cref="ContainerRuntimeError.ImageNotFound"/>), or the
    /// build failed now or earlier with the same inputs (<see cref="ContainerRuntimeError.BuildFailed"/>).</exception>
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
                return await EnsureBuiltAsync(container.ClassName, build, cancellationToken);

            default:
                throw new ArgumentException($"Unknown image source {container.Image.GetType().Name}.", nameof(container));
        }
    }

    private async Task<AppImage> EnsureBuiltAsync(string className, DockerfileImage build, CancellationToken cancellationToken)
    {
        var gate = _building.GetOrAdd(className, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var version = ImageContentHash.Compute(build);
            var tag = $"{BerthNames.ImageRepository(config.Name, className)}:{version}";
            if (_failures.TryGetValue(className, out var failed) && failed.Version == version)
            {
                throw new ContainerRuntimeException(ContainerRuntimeError.BuildFailed,
                    $"Container class '{className}': the image build failed and is not retried until the Dockerfile, its build context or image_vars change. {failed.Message}");
            }

            if (await runtime.InspectImageAsync(tag, cancellationToken) is not null)
            {
                _failures.TryRemove(className, out _);
                Log.CacheHit(logger, className, tag);
                return new AppImage(className, tag, version, Built: false);
            }

            Log.Building(logger, className, tag, build.DockerfilePath);
            var spec = new ImageBuildSpec
            {
                ContextDirectory = build.ContextDirectory,
                Dockerfile = Path.GetRelativePath(build.ContextDirectory, build.DockerfilePath).Replace('\\', '/'),
                Tags = [tag],
                BuildArgs = build.BuildArgs,
                Labels = BerthNames.ForImage(config.Name, className, version),
            };
            var started = Stopwatch.GetTimestamp();
            try
            {
                await runtime.BuildImageAsync(spec, new LogProgress(logger, className), cancellationToken);
            }
            catch (ContainerRuntimeException ex) when (ex.Error == ContainerRuntimeError.BuildFailed)
            {
                _failures[className] = new FailedBuild(version, ex.Message);
                Log.BuildFailed(logger, className, tag, ex.Message);
                throw;
            }

            _failures.TryRemove(className, out _);
            Log.Built(logger, className, tag, Stopwatch.GetElapsedTime(started).TotalSeconds);
            await RemoveReplacedAsync(className, version, cancellationToken);
            return new AppImage(className, tag, version, Built: true);
        }
        finally
        {
            gate.Release();
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

            // Tag by tag: a version pushed to the node's registry carries its registry tag too, and the engine refuses to
            // delete an image by ID while several repositories name it. The last tag removed deletes the image.
            foreach (var reference in image.Tags.Count > 0 ? image.Tags : [image.Id])
            {
                try
                {
                    await runtime.RemoveImageAsync(reference, force: false, cancellationToken);
                }
                catch (ContainerRuntimeException ex) when (ex.Error == ContainerRuntimeError.Conflict)
                {
                    // In use by a running container.
                }
                catch (ContainerRuntimeException ex)
                {
                    // Clean-up only: the new image is built and tagged, so the class runs it; a later build tries again.
                    Log.RemoveReplacedFailed(logger, className, reference, ex.Message);
                }
            }
        }
    }

    private static string ShortId(string id)
    {
        var hex = id.StartsWith("sha256:", StringComparison.Ordinal) ? id[7..] : id;
        return hex.Length > ImageContentHash.Length ? hex[..ImageContentHash.Length] : hex;
    }

    private sealed record FailedBuild(string Version, string Message);

    /// <summary>
    /// Logs build output as it arrives, on the caller's thread (unlike <see cref="Progress{T}"/>): each step at
    /// Information, so a build shows its progress at the default level, and the steps' own output at Debug.
    /// </summary>
    private sealed class LogProgress(ILogger logger, string className) : IProgress<string>
    {
        public void Report(string value)
        {
            var line = value.TrimEnd();
            if (line.StartsWith("Step ", StringComparison.Ordinal))
            {
                Log.BuildStep(logger, className, line);
            }
            else
            {
                Log.BuildOutput(logger, className, line);
            }
        }
    }
}
