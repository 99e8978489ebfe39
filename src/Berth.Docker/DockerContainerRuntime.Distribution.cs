using Berth.Runtime;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Berth.Docker;

public sealed partial class DockerContainerRuntime : IImageDistribution
{
    /// <inheritdoc />
    public async Task<ImageInfo> BuildImageFromContextAsync(
        Stream contextTar, string dockerfile, IReadOnlyList<string> tags, IReadOnlyDictionary<string, string> labels,
        IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(contextTar);
        ArgumentException.ThrowIfNullOrEmpty(dockerfile);
        ArgumentNullException.ThrowIfNull(tags);
        if (tags.Count == 0)
        {
            throw new ContainerRuntimeException(ContainerRuntimeError.InvalidSpec, "An image build needs at least one tag.");
        }

        var tag = tags[0];
        var parameters = new ImageBuildParameters
        {
            Tags = tags.ToList(),
            Dockerfile = dockerfile.Replace('\\', '/'),
            Labels = WithManagedLabel(labels),
            Remove = true,
            ForceRemove = true,
        };
        return await RunBuildAsync(parameters, contextTar, tag, progress, "", cancellationToken);
    }

    /// <inheritdoc />
    public async Task TagImageAsync(string source, string target, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        var (repository, tag) = BerthNames.SplitImageReference(target);
        await CallAsync((c, ct) => c.Images.TagImageAsync(source, new ImageTagParameters { RepositoryName = repository, Tag = tag }, ct),
            Subject.Image, source, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<string> PushImageAsync(string reference, CancellationToken cancellationToken = default)
    {
        var (repository, tag) = BerthNames.SplitImageReference(reference);
        var messages = new PullPushMessages();
        await CallAsync((c, ct) => c.Images.PushImageAsync(repository, new ImagePushParameters { Tag = tag }, new AuthConfig(), messages, ct),
            Subject.Image, reference, cancellationToken);
        if (messages.Error is { } error)
        {
            throw new ContainerRuntimeException(ContainerRuntimeError.Unknown, $"Pushing image '{reference}' failed: {error}");
        }

        // The push's last status line is "<tag>: digest: sha256:… size: n"; the repo digests say the same after it.
        if (messages.Digest is { } digest)
        {
            return digest;
        }

        var repoDigests = await GetRepoDigestsAsync(reference, cancellationToken) ?? [];
        return repoDigests.Select(d => d.Split('@', 2)).FirstOrDefault(p => p.Length == 2 && p[0] == repository)?[1]
            ?? throw new ContainerRuntimeException(ContainerRuntimeError.Unknown, $"Pushing image '{reference}' reported success without a digest.");
    }

    /// <inheritdoc />
    public async Task PullImageAsync(string reference, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        var at = reference.IndexOf('@', StringComparison.Ordinal);
        var parameters = at > 0
            ? new ImagesCreateParameters { FromImage = reference }
            : new ImagesCreateParameters { FromImage = BerthNames.SplitImageReference(reference).Repository, Tag = BerthNames.SplitImageReference(reference).Tag };
        var messages = new PullPushMessages();
        await CallAsync((c, ct) => c.Images.CreateImageAsync(parameters, new AuthConfig(), messages, ct), Subject.Image, reference, cancellationToken);
        if (messages.Error is { } error)
        {
            throw new ContainerRuntimeException(ContainerRuntimeError.ImageNotFound, $"Pulling image '{reference}' failed: {error}");
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>?> GetRepoDigestsAsync(string reference, CancellationToken cancellationToken = default)
    {
        try
        {
            var image = await _client.Images.InspectImageAsync(reference, cancellationToken);
            return image.RepoDigests?.ToList() ?? [];
        }
        catch (Exception e) when (DockerErrors.IsNotFound(e))
        {
            return null;
        }
        catch (Exception e) when (DockerErrors.Translate(e, Subject.Image, reference, Endpoint, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>A pull's or push's JSON messages: the first error, and the digest a push reports.</summary>
    private sealed class PullPushMessages : IProgress<JSONMessage>
    {
        public string? Error { get; private set; }

        public string? Digest { get; private set; }

        public void Report(JSONMessage value)
        {
            if (value.Error is { Message: { Length: > 0 } message })
            {
                Error ??= message.Trim();
            }

            if (value.Status is { } status && status.IndexOf("digest: sha256:", StringComparison.Ordinal) is var at and >= 0)
            {
                var digest = status[(at + "digest: ".Length)..];
                var end = digest.IndexOf(' ', StringComparison.Ordinal);
                Digest = end > 0 ? digest[..end] : digest;
            }
        }
    }
}
