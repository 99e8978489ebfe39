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
}

/// <summary>The container classes an app registered, by class name.</summary>
public sealed class ContainerClassRegistry
{
    private readonly Dictionary<string, ContainerClass> _classes = new(StringComparer.Ordinal);

    /// <summary>All registered classes.</summary>
    public IEnumerable<ContainerClass> Classes => _classes.Values;

    /// <summary>Finds a class by name.</summary>
    public bool TryGet(string className, out ContainerClass containerClass) => _classes.TryGetValue(className, out containerClass!);

    /// <summary>Finds a class by name or throws, naming the registered ones.</summary>
    public ContainerClass Get(string className) =>
        TryGet(className, out var containerClass)
            ? containerClass
            : throw new InvalidOperationException(
                $"Container class '{className}' is not registered. Registered: {string.Join(", ", _classes.Keys)}. " +
                "Register it with AddContainer<T>() and give it a 'containers[]' entry in the app's config.");

    internal void Add(ContainerClass containerClass)
    {
        if (!_classes.TryAdd(containerClass.Options.ClassName, containerClass))
        {
            throw new InvalidOperationException($"Container class '{containerClass.Options.ClassName}' is registered twice.");
        }
    }
}
