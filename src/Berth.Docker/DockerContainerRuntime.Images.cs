using System.Text;
using Berth.Runtime;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Berth.Docker;

public sealed partial class DockerContainerRuntime
{
    /// <inheritdoc />
    public async Task<ImageInfo> BuildImageAsync(ImageBuildSpec spec, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var call = DockerTelemetry.Start(_timeProvider, "build");
        if (spec.Tags.Count == 0)
        {
            throw new ContainerRuntimeException(ContainerRuntimeError.InvalidSpec, "An image build needs at least one tag.");
        }

        var tag = spec.Tags[0];
        var dockerfileText = await ReadDockerfileAsync(spec, cancellationToken);
        if (DockerfileFeatures.FindBuildKitOnly(dockerfileText) is { } buildKitOnly)
        {
            throw new ContainerRuntimeException(ContainerRuntimeError.BuildFailed,
                $"Building image '{tag}' failed: {spec.Dockerfile} uses '{buildKitOnly}', which needs BuildKit; Berth builds with the engine's classic builder, "
                + "which does not support it. Remove it from the Dockerfile (or build the image with 'docker build' and set image to its name).");
        }

        await using var context = await BuildContext.PackAsync(spec.ContextDirectory, spec.Dockerfile, cancellationToken);
        var parameters = new ImageBuildParameters
        {
            Tags = spec.Tags.ToList(),
            Dockerfile = spec.Dockerfile.Replace('\\', '/'),
            BuildArgs = spec.BuildArgs.ToDictionary(kv => kv.Key, kv => kv.Value),
            Labels = WithManagedLabel(spec.Labels),
            // Intermediate containers would otherwise be left behind without our labels.
            Remove = true,
            ForceRemove = true,
        };
        var syntaxHint = DockerfileFeatures.FindSyntaxDirective(dockerfileText) is { } directive
            ? $"{Environment.NewLine}The Dockerfile asks for BuildKit syntax ('{directive}'); the engine's classic builder Berth uses ignores that line."
            : "";
        return await RunBuildAsync(parameters, context, tag, progress, syntaxHint, cancellationToken);
    }

    /// <summary>
    /// Runs one classic-builder build of <paramref name="context"/> (a tar stream, read as it goes) and answers the image;
    /// a failed build throws <see cref="ContainerRuntimeError.BuildFailed"/> naming the failing step, its output and
    /// <paramref name="failureHint"/>.
    /// </summary>
    private async Task<ImageInfo> RunBuildAsync(
        ImageBuildParameters parameters, Stream context, string tag, IProgress<string>? progress, string failureHint, CancellationToken cancellationToken)
    {
        var messages = new BuildMessages(this, progress);
        try
        {
            await _client.Images.BuildImageFromDockerfileAsync(parameters, context, [], new Dictionary<string, string>(), messages, cancellationToken);
        }
        catch (DockerApiException e) when (!cancellationToken.IsCancellationRequested)
        {
            messages.Error ??= DockerErrors.EngineMessage(e);
        }
        catch (Exception e) when (DockerErrors.Translate(e, Subject.Image, tag, Endpoint, cancellationToken) is { } translated)
        {
            throw translated;
        }

        if (messages.Error is { } error)
        {
            _logger.ImageBuildFailed(tag, error);
            var at = messages.LastStep is { } step ? $" at '{step}'" : "";
            var stepOutput = messages.StepOutput.Count > 0
                ? $"{Environment.NewLine}Output of the failing step:{Environment.NewLine}{string.Join(Environment.NewLine, messages.StepOutput)}"
                : "";
            throw new ContainerRuntimeException(ContainerRuntimeError.BuildFailed, $"Building image '{tag}' failed{at}: {error}{stepOutput}{failureHint}");
        }

        var image = await InspectImageAsync(tag, cancellationToken)
            ?? throw new ContainerRuntimeException(ContainerRuntimeError.BuildFailed, $"Building image '{tag}' reported success but the engine has no such image.");
        _logger.ImageBuilt(tag, image.Id);
        return image;
    }

    private static async Task<string> ReadDockerfileAsync(ImageBuildSpec spec, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Path.GetFullPath(spec.ContextDirectory), spec.Dockerfile);
        try
        {
            return await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ContainerRuntimeException(ContainerRuntimeError.BuildFailed, $"Building image '{spec.Tags[0]}' failed: there is no Dockerfile at {path}.");
        }
    }

    /// <summary>Collects a build's or import's JSON messages: output lines to the caller, the first error kept.</summary>
    private sealed class BuildMessages(DockerContainerRuntime runtime, IProgress<string>? progress) : IProgress<JSONMessage>
    {
        /// <summary>How many of the current step's last output lines are kept for the error message.</summary>
        private const int StepOutputLines = 40;

        private readonly StringBuilder _partial = new();
        private readonly Queue<string> _stepOutput = new();

        public string? Error { get; set; }

        /// <summary>The last <c>Step n/m : INSTRUCTION</c> line, which says where a build failed.</summary>
        public string? LastStep { get; private set; }

        /// <summary>The last output lines of the current (on failure: the failing) step, oldest first.</summary>
        public IReadOnlyCollection<string> StepOutput => _stepOutput;

        public void Report(JSONMessage value)
        {
            if (value.Error is { Message: { Length: > 0 } message })
            {
                Error ??= message.Trim();
            }

            var text = value.Stream ?? value.Status;
            if (string.IsNullOrEmpty(text))
            {
                return;
            }

            _partial.Append(text);
            var all = _partial.ToString();
            var lastNewline = all.LastIndexOf('\n');
            if (lastNewline < 0)
            {
                return;
            }

            foreach (var line in all[..lastNewline].Split('\n'))
            {
                var trimmed = line.TrimEnd('\r');
                if (trimmed.StartsWith("Step ", StringComparison.Ordinal))
                {
                    LastStep = trimmed;
                    _stepOutput.Clear();
                }
                else if (LastStep is not null && trimmed.Length > 0 && !trimmed.StartsWith(" ---> ", StringComparison.Ordinal)
                    && !trimmed.StartsWith("Removing intermediate container ", StringComparison.Ordinal))
                {
                    _stepOutput.Enqueue(trimmed);
                    if (_stepOutput.Count > StepOutputLines)
                    {
                        _stepOutput.Dequeue();
                    }
                }

                runtime._logger.BuildOutput(trimmed);
                progress?.Report(trimmed);
            }

            _partial.Clear().Append(all[(lastNewline + 1)..]);
        }
    }

    /// <inheritdoc />
    public async Task<ImageInfo> ImportImageAsync(Stream rootfsTar, string reference, IReadOnlyDictionary<string, string>? labels = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rootfsTar);
        var (repository, tag) = BerthNames.SplitImageReference(reference);
        var parameters = new ImagesCreateParameters
        {
            FromSrc = "-",
            Repo = repository,
            Tag = tag,
            // The import endpoint takes Dockerfile instructions; LABEL is one it allows.
            Changes = WithManagedLabel(labels).Select(kv => $"LABEL {Quote(kv.Key)}={Quote(kv.Value)}").ToList(),
        };
        var messages = new BuildMessages(this, progress: null);
        await CallAsync((c, ct) => c.Images.CreateImageAsync(parameters, rootfsTar, null, messages, ct), Subject.Image, reference, cancellationToken);
        if (messages.Error is { } error)
        {
            throw new ContainerRuntimeException(ContainerRuntimeError.Unknown, $"Importing image '{reference}' failed: {error}");
        }

        var image = await InspectImageAsync(reference, cancellationToken)
            ?? throw new ContainerRuntimeException(ContainerRuntimeError.Unknown, $"Importing image '{reference}' reported success but the engine has no such image.");
        _logger.ImageImported(reference, image.Id);
        return image;
    }

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <inheritdoc />
    public async Task<ImageInfo?> InspectImageAsync(string reference, CancellationToken cancellationToken = default)
    {
        try
        {
            var image = await _client.Images.InspectImageAsync(reference, cancellationToken);
            return new ImageInfo(image.ID, ImageTags(image.RepoTags), image.Config?.Labels?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [], image.Size);
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

    /// <inheritdoc />
    public async Task<IReadOnlyList<ImageInfo>> ListImagesAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default)
    {
        var parameters = new ImagesListParameters { Filters = LabelFilter(labels) };
        var images = await CallAsync((c, ct) => c.Images.ListImagesAsync(parameters, ct), Subject.Engine, null, cancellationToken);
        return images.Select(i => new ImageInfo(i.ID, ImageTags(i.RepoTags), i.Labels?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [], i.Size)).ToList();
    }

    /// <summary>
    /// An image's tags as the engine lists them, without its placeholder for an untagged image (<c>&lt;none&gt;:&lt;none&gt;</c>, which
    /// Docker 20.10 lists for a build's earlier image once its tag moved on): that is no reference, and removing or running it fails with
    /// "invalid reference format".
    /// </summary>
    internal static IReadOnlyList<string> ImageTags(IEnumerable<string>? repoTags) =>
        repoTags?.Where(tag => !string.IsNullOrWhiteSpace(tag) && !tag.StartsWith("<none>", StringComparison.Ordinal)).ToList() ?? [];

    /// <inheritdoc />
    public async Task RemoveImageAsync(string reference, bool force = false, CancellationToken cancellationToken = default)
    {
        try
        {
            await _client.Images.DeleteImageAsync(reference, new ImageDeleteParameters { Force = force }, cancellationToken);
            _logger.ImageRemoved(reference);
        }
        catch (Exception e) when (DockerErrors.IsNotFound(e))
        {
            // Already gone.
        }
        catch (Exception e) when (DockerErrors.Translate(e, Subject.Image, reference, Endpoint, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }
}
