using System.Security.Cryptography;
using System.Text;
using Berth.Runtime;

namespace Berth.Testing;

/// <summary>The test images, by reference, as built by <see cref="TestImages.EnsureBuiltAsync"/>.</summary>
/// <param name="Base">busybox + glibc, no entrypoint (give a command).</param>
/// <param name="App">The Native AOT HTTP test app on port <see cref="TestImages.AppPort"/>.</param>
/// <param name="IgnoreSigterm">A shell that ignores SIGTERM.</param>
/// <param name="MemoryHog">A shell that allocates until it is OOM-killed.</param>
public sealed record TestImageSet(string Base, string App, string IgnoreSigterm, string MemoryHog);

/// <summary>
/// Builds the registry-free test images on any <see cref="IContainerRuntime"/>: imports the busybox + glibc
/// base, publishes the test app with Native AOT (cached under <c>.artifacts/testapp</c>) and builds the
/// Dockerfiles in <c>tests/images</c> on top. Only what is missing or out of date is rebuilt. Safe to call
/// from many tests and from several test processes at once.
/// </summary>
public static class TestImages
{
    /// <summary>The busybox + glibc base image.</summary>
    public const string BaseImage = "berth-test/base:latest";

    /// <summary>The HTTP test app image.</summary>
    public const string AppImage = "berth-test/app:latest";

    /// <summary>The image whose shell ignores SIGTERM.</summary>
    public const string IgnoreSigtermImage = "berth-test/ignore-sigterm:latest";

    /// <summary>The image that allocates memory until it is OOM-killed.</summary>
    public const string MemoryHogImage = "berth-test/memhog:latest";

    /// <summary>The port the test app listens on unless <c>PORT</c> says otherwise.</summary>
    public const int AppPort = 8080;

    /// <summary>Label holding a hash of what an image was built from; a different hash means rebuild.</summary>
    public const string ContentLabel = "berth.test.content";

    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>Builds whatever test image is missing or stale and returns their references.</summary>
    public static async Task<TestImageSet> EnsureBuiltAsync(IContainerRuntime runtime, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        var root = RepositoryRoot.Find();
        var artifacts = Path.Combine(root, ".artifacts", "testapp");
        Directory.CreateDirectory(artifacts);

        await Gate.WaitAsync(cancellationToken);
        try
        {
            await using var processLock = await AotPublisher.AcquireFileLockAsync(Path.Combine(artifacts, "build.lock"), cancellationToken);
            var binary = await PublishTestAppAsync(root, artifacts, cancellationToken);

            var baseImage = await EnsureBaseAsync(runtime, cancellationToken);
            var images = Path.Combine(root, "tests", "images");

            var appContext = Path.Combine(artifacts, "app-context");
            Directory.CreateDirectory(appContext);
            File.Copy(Path.Combine(images, "app", "Dockerfile"), Path.Combine(appContext, "Dockerfile"), overwrite: true);
            File.Copy(binary, Path.Combine(appContext, "testapp"), overwrite: true);

            await EnsureBuiltFromAsync(runtime, AppImage, appContext, baseImage, cancellationToken);
            await EnsureBuiltFromAsync(runtime, IgnoreSigtermImage, Path.Combine(images, "ignore-sigterm"), baseImage, cancellationToken);
            await EnsureBuiltFromAsync(runtime, MemoryHogImage, Path.Combine(images, "memhog"), baseImage, cancellationToken);
            return new TestImageSet(BaseImage, AppImage, IgnoreSigtermImage, MemoryHogImage);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>The labels every test image carries, plus its content hash.</summary>
    private static Dictionary<string, string> ImageLabels(string contentHash) => new()
    {
        [BerthLabels.Test] = "1",
        [BerthLabels.Managed] = "1",
        [ContentLabel] = contentHash,
    };

    private static async Task<ImageInfo> EnsureBaseAsync(IContainerRuntime runtime, CancellationToken cancellationToken)
    {
        var hash = BusyboxRootfs.ComputeContentHash();
        var existing = await runtime.InspectImageAsync(BaseImage, cancellationToken);
        if (existing is not null && existing.Labels.GetValueOrDefault(ContentLabel) == hash)
        {
            return existing;
        }

        using var rootfs = new MemoryStream();
        await BusyboxRootfs.WriteAsync(rootfs, cancellationToken);
        rootfs.Position = 0;
        var imported = await runtime.ImportImageAsync(rootfs, BaseImage, ImageLabels(hash), cancellationToken);
        await RemoveReplacedAsync(runtime, existing, imported, cancellationToken);
        return imported;
    }

    /// <summary>Builds <paramref name="context"/>'s Dockerfile as <paramref name="tag"/> unless an image of the same content exists.</summary>
    private static async Task EnsureBuiltFromAsync(IContainerRuntime runtime, string tag, string context, ImageInfo baseImage, CancellationToken cancellationToken)
    {
        var hash = HashContext(context, baseImage.Id);
        var existing = await runtime.InspectImageAsync(tag, cancellationToken);
        if (existing is not null && existing.Labels.GetValueOrDefault(ContentLabel) == hash)
        {
            return;
        }

        var built = await runtime.BuildImageAsync(
            new ImageBuildSpec { ContextDirectory = context, Tags = [tag], Labels = ImageLabels(hash) },
            progress: null,
            cancellationToken);
        await RemoveReplacedAsync(runtime, existing, built, cancellationToken);
    }

    /// <summary>Drops the image a rebuild replaced, if nothing uses it any more.</summary>
    private static async Task RemoveReplacedAsync(IContainerRuntime runtime, ImageInfo? old, ImageInfo current, CancellationToken cancellationToken)
    {
        if (old is null || old.Id == current.Id)
        {
            return;
        }

        try
        {
            await runtime.RemoveImageAsync(old.Id, force: false, cancellationToken);
        }
        catch (ContainerRuntimeException)
        {
            // Still used by a container or a child image; a cleanup with images removes it later.
        }
    }

    private static string HashContext(string context, string baseImageId)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(baseImageId));
        foreach (var file in Directory.EnumerateFiles(context, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(context, file)));
            using var stream = File.OpenRead(file);
            hash.AppendData(SHA256.HashData(stream));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>Publishes the test app with Native AOT unless its binary is newer than all its sources.</summary>
    private static Task<string> PublishTestAppAsync(string root, string artifacts, CancellationToken cancellationToken) =>
        AotPublisher.PublishAsync(
            Path.Combine(root, "tests", "images", "testapp", "TestApp.csproj"), Path.Combine(artifacts, "publish"), "testapp",
            cancellationToken: cancellationToken);
}

/// <summary>Finds the repository root: the nearest directory upwards that holds <c>Berth.slnx</c>.</summary>
public static class RepositoryRoot
{
    /// <summary>Walks up from the test assembly's directory (then the current directory) to <c>Berth.slnx</c>.</summary>
    public static string Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Berth.slnx")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new DirectoryNotFoundException($"No Berth.slnx found above {AppContext.BaseDirectory}; run from inside the Berth repository.");
    }
}
