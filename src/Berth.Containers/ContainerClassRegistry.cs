namespace Berth.Containers;

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
