using System.Runtime.CompilerServices;

namespace Berth.Objects;

/// <summary>
/// A binding to a class of durable objects, resolved from dependency injection: makes ids and returns typed
/// references. Calls through a reference are Orleans grain calls; the object activates on the first one.
/// </summary>
/// <typeparam name="TObject">The object's interface.</typeparam>
public sealed class DurableObjectNamespace<TObject>
    where TObject : IDurableObject
{
    private readonly IGrainFactory _grainFactory;
    private readonly GrainType _grainType;

    // Orleans resolves the interface type of GetGrain<T> anew on every call (attribute lookups and type-name
    // formatting): about a tenth of the gateway's CPU per forwarded request. Resolved once, on the first Get.
    private volatile StrongBox<GrainInterfaceType>? _interfaceType;

    internal DurableObjectNamespace(string name, IGrainFactory grainFactory, GrainType grainType)
    {
        Name = name;
        _grainFactory = grainFactory;
        _grainType = grainType;
    }

    /// <summary>Gets the binding name; ids are tied to it.</summary>
    public string Name { get; }

    /// <summary>Makes the id for <paramref name="name"/>: the same name always gives the same id, and so the same object.</summary>
    public DurableObjectId IdFromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return DurableObjectId.FromName(Name, name);
    }

    /// <summary>Makes a new random id.</summary>
    public DurableObjectId NewUniqueId() => DurableObjectId.NewUnique(Name);

    /// <summary>Parses an id made by this namespace (its <see cref="DurableObjectId.ToString"/> form).</summary>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not an id, or was made by another namespace.</exception>
    public DurableObjectId IdFromString(string id)
    {
        if (!DurableObjectId.TryParse(id, out var parsed))
        {
            throw new ArgumentException($"'{id}' is not a durable object id: an id is {DurableObjectId.Length} lowercase hex characters (0-9, a-f).", nameof(id));
        }

        return parsed.BelongsTo(Name)
            ? parsed
            : throw new ArgumentException($"The id '{id}' was not made by the durable object namespace '{Name}'.", nameof(id));
    }

    /// <summary>Gets a reference to the object with <paramref name="id"/>.</summary>
    /// <param name="id">An id from this namespace.</param>
    /// <param name="locationHint">The location label of the node a NEW object should be placed on (<c>Berth:Cluster:Location</c>);
    /// <see langword="null"/>: the node that receives the call. An existing object stays where it is; a single node ignores it,
    /// and a cluster places the object as without a hint when no live node has that location.</param>
    /// <exception cref="ArgumentException"><paramref name="id"/> was made by another namespace.</exception>
    public TObject Get(DurableObjectId id, string? locationHint = null)
    {
        if (!id.BelongsTo(Name))
        {
            throw new ArgumentException($"The id '{id}' was not made by the durable object namespace '{Name}'.", nameof(id));
        }

        // Calls that follow in this flow carry the object's name, so it can name itself in logs (DurableObjectContext.Name).
        DurableObjectNames.Carry(id);
        DurableObjectLocations.Carry(locationHint);
        var grainId = GrainId.Create(_grainType, id.ToString());
        if (_interfaceType is { } interfaceType)
        {
            return (TObject)_grainFactory.GetGrain(grainId, interfaceType.Value);
        }

        var reference = _grainFactory.GetGrain<TObject>(grainId);
        _interfaceType = new StrongBox<GrainInterfaceType>(((GrainReference)(object)reference).InterfaceType);
        return reference;
    }

    /// <summary>Gets a reference to the object named <paramref name="name"/>; shorthand for <c>Get(IdFromName(name))</c>.</summary>
    public TObject GetByName(string name, string? locationHint = null) => Get(IdFromName(name), locationHint);
}
