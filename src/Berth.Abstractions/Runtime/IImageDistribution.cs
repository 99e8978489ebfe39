namespace Berth.Runtime;

/// <summary>
/// Moving images between the engine and a registry, and building from a streamed build context: what deploys and image
/// garbage collection need beyond <see cref="IImageOperations"/>. Implemented by the Docker driver.
/// </summary>
public interface IImageDistribution
{
    /// <summary>
    /// Builds an image from a build context streamed as a tar archive (read once, as it arrives; never buffered whole),
    /// tagged with every tag of <paramref name="tags"/>.
    /// </summary>
    /// <param name="contextTar">The build context as a (optionally gzip-compressed) tar stream.</param>
    /// <param name="dockerfile">The Dockerfile's path inside the context, e.g. <c>Dockerfile</c>.</param>
    /// <param name="tags">At least one tag; the first is inspected after the build.</param>
    /// <param name="labels">Labels put on the image.</param>
    /// <param name="progress">Receives the build's output lines.</param>
    /// <param name="cancellationToken">Cancels the build.</param>
    /// <exception cref="ContainerRuntimeException"><see cref="ContainerRuntimeError.BuildFailed"/> with the failing step's output.</exception>
    Task<ImageInfo> BuildImageFromContextAsync(
        Stream contextTar, string dockerfile, IReadOnlyList<string> tags, IReadOnlyDictionary<string, string> labels,
        IProgress<string>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Adds the tag <paramref name="target"/> (<c>repository:tag</c>) to the image <paramref name="source"/>.</summary>
    /// <exception cref="ContainerRuntimeException"><see cref="ContainerRuntimeError.ImageNotFound"/> when the source does not exist.</exception>
    Task TagImageAsync(string source, string target, CancellationToken cancellationToken = default);

    /// <summary>
    /// Pushes <paramref name="reference"/> (<c>registry/repository:tag</c>) to its registry and answers the pushed manifest's
    /// digest (<c>sha256:…</c>).
    /// </summary>
    /// <exception cref="ContainerRuntimeException">The registry refused or could not be reached (<see cref="ContainerRuntimeError.Unknown"/>, with the engine's words).</exception>
    Task<string> PushImageAsync(string reference, CancellationToken cancellationToken = default);

    /// <summary>Pulls <paramref name="reference"/> (by tag or by digest, <c>repository@sha256:…</c>) from its registry.</summary>
    /// <exception cref="ContainerRuntimeException">The registry has no such image or could not be reached.</exception>
    Task PullImageAsync(string reference, CancellationToken cancellationToken = default);

    /// <summary>The image's repository digests (<c>repository@sha256:…</c>), empty when it was never pushed or pulled; <see langword="null"/> when the image does not exist.</summary>
    Task<IReadOnlyList<string>?> GetRepoDigestsAsync(string reference, CancellationToken cancellationToken = default);
}
