namespace Berth.Containers;

/// <summary>A registered container class: its settings and the image it runs.</summary>
public sealed class ContainerClass
{
    private readonly Func<CancellationToken, Task<string>> _resolveImage;
    private Task<string>? _image;

    internal ContainerClass(Type type, ContainerClassOptions options, Func<CancellationToken, Task<string>>? resolveImage)
    {
        Type = type;
        Options = options;
        _resolveImage = resolveImage ?? (_ => Task.FromResult(options.Image
            ?? throw new InvalidOperationException($"Container class '{options.ClassName}' has no image: set 'image' in the app's config.")));
    }

    /// <summary>The C# class.</summary>
    public Type Type { get; }

    /// <summary>Its settings.</summary>
    public ContainerClassOptions Options { get; }

    /// <summary>
    /// The image reference to run, resolved once (a Dockerfile is built on first use, or at start-up by
    /// the host); a failed resolution is retried on the next call.
    /// </summary>
    public Task<string> GetImageAsync(CancellationToken cancellationToken)
    {
        var image = _image;
        if (image is null || image.IsFaulted || image.IsCanceled)
        {
            image = _image = _resolveImage(CancellationToken.None);
        }

        return image.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Makes <paramref name="reference"/> the image that containers of this class start from from now on (for example after
    /// <c>berth dev</c> rebuilt it); running containers keep theirs.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="reference"/> is empty.</exception>
    public void UseImage(string reference)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reference);
        _image = Task.FromResult(reference);
    }
}
