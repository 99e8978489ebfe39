namespace Berth.Runtime;

/// <summary>
/// Builds, imports, inspects, lists and removes images: the image part of <see cref="IContainerRuntime"/>.
/// Every operation is async, cancellable and fails with a <see cref="ContainerRuntimeException"/>.
/// </summary>
public interface IImageOperations
{
    /// <summary>Builds an image from a Dockerfile and context; reports build output lines to <paramref name="progress"/>.</summary>
    Task<ImageInfo> BuildImageAsync(ImageBuildSpec spec, IProgress<string>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Imports a root filesystem tarball as an image named <paramref name="reference"/>.</summary>
    Task<ImageInfo> ImportImageAsync(Stream rootfsTar, string reference, IReadOnlyDictionary<string, string>? labels = null, CancellationToken cancellationToken = default);

    /// <summary>Inspects an image; <see langword="null"/> when it does not exist.</summary>
    Task<ImageInfo?> InspectImageAsync(string reference, CancellationToken cancellationToken = default);

    /// <summary>Lists images that carry all the given labels.</summary>
    Task<IReadOnlyList<ImageInfo>> ListImagesAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default);

    /// <summary>Removes an image. Succeeds if it is already gone.</summary>
    Task RemoveImageAsync(string reference, bool force = false, CancellationToken cancellationToken = default);
}
