using System.Collections.Concurrent;
using Berth.Containers;
using Berth.Objects;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway;

/// <summary>
/// The typed binding of a container class (the seed's <c>env.MY_CONTAINER</c>): turns names into
/// object IDs and gives stubs that forward requests to, and call methods on, the containers.
/// Inject it as <c>ContainerNamespace&lt;MyContainer&gt;</c>.
/// </summary>
public sealed class ContainerNamespace<TContainer>
    where TContainer : Container
{
    private readonly DurableObjectNamespace<IContainer> _objects;
    private readonly ContainerForwarder _forwarder;
    private readonly long? _maxRequestBodySize;
    private readonly Pools.ContainerPoolRegistry? _pools;

    // Name → ID, so a warm request does not hash its name (SHA-256) again. Names come from clients, so the table is
    // bounded: when it holds _nameCacheSize names it is emptied and refills with the names still in use.
    private readonly ConcurrentDictionary<string, DurableObjectId> _ids = new(StringComparer.Ordinal);
    private readonly int _nameCacheSize;
    private int _cachedNames;

    /// <summary>Creates the binding.</summary>
    public ContainerNamespace(IServiceProvider services, ContainerForwarder forwarder)
    {
        ArgumentNullException.ThrowIfNull(services);
        _objects = services.GetRequiredKeyedService<DurableObjectNamespace<IContainer>>(typeof(TContainer).Name);
        _forwarder = forwarder;
        _nameCacheSize = services.GetService<Microsoft.Extensions.Options.IOptions<GatewayOptions>>()?.Value.NameCacheSize ?? GatewayOptions.DefaultNameCacheSize;
        _pools = services.GetService<Pools.ContainerPoolRegistry>();
        // Read once: the class's own body limit, between a route's and the gateway's.
        _maxRequestBodySize = services.GetService<ContainerClassRegistry>() is { } classes && classes.TryGet(ClassName, out var containerClass)
            ? containerClass.Options.MaxRequestBodySize
            : null;
    }

    /// <summary>The container class name.</summary>
    public string ClassName => _objects.Name;

    /// <summary>How many names' IDs are kept now (at most <see cref="GatewayOptions.NameCacheSize"/>).</summary>
    internal int CachedNameCount => _ids.Count;

    /// <summary>The ID for a name; the same name always gives the same ID.</summary>
    public DurableObjectId IdFromName(string name) => _objects.IdFromName(name);

    /// <summary>A new random ID.</summary>
    public DurableObjectId NewUniqueId() => _objects.NewUniqueId();

    /// <summary>Parses an ID made earlier.</summary>
    public DurableObjectId IdFromString(string id) => _objects.IdFromString(id);

    /// <summary>The stub of the container with this ID.</summary>
    public ContainerStub Get(DurableObjectId id, string? locationHint = null) =>
        new(ClassName, id, _objects.Get(id, locationHint), _forwarder, _maxRequestBodySize);

    /// <summary>
    /// The stub of the container for a name (the seed's <c>getContainer(ns, name)</c>). The name's ID is kept (up to
    /// <see cref="GatewayOptions.NameCacheSize"/> names), and the object reference is made only when the object is called
    /// (<see cref="ContainerStub.Object"/>, or a request whose container is not running), so forwarding a request to a
    /// running container allocates nothing here.
    /// </summary>
    public ContainerStub GetByName(string name, string? locationHint = null) =>
        new(ClassName, CachedIdFromName(name), _objects, _forwarder, _maxRequestBodySize);

    private DurableObjectId CachedIdFromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_ids.TryGetValue(name, out var id))
        {
            return id;
        }

        id = IdFromName(name);
        if (_nameCacheSize > 0)
        {
            if (Interlocked.Increment(ref _cachedNames) > _nameCacheSize)
            {
                // Full (many names, or a client inventing them): start again rather than grow.
                _ids.Clear();
                Volatile.Write(ref _cachedNames, 1);
            }

            _ids.TryAdd(name, id);
        }

        return id;
    }

    /// <summary>One of <paramref name="instances"/> containers picked at random, to spread stateless load (the seed's <c>getRandom</c>).</summary>
    public ContainerStub GetRandom(int instances)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(instances, 1);
        return GetByName(RandomInstanceNames.Get(Random.Shared.Next(instances)));
    }

    /// <summary>
    /// The class used as a pool of interchangeable instances: each request goes to the least-loaded running instance and the
    /// pool scales itself (<see cref="ContainerClassOptions.Pool"/>; docs/scaling.md). The instances are the objects
    /// <see cref="GetRandom"/> also uses (<c>instance-0</c>, <c>instance-1</c>, …).
    /// </summary>
    /// <exception cref="InvalidOperationException">The gateway was added without its pools (<see cref="GatewayExtensions.AddBerthGateway"/> adds them).</exception>
    public Pools.ContainerPool GetPool() =>
        (_pools ?? throw new InvalidOperationException("Pools need AddBerthGateway(): it registers ContainerPoolRegistry.")).Get(ClassName);

    /// <summary>Typed RPC to the container object through your own interface deriving from <see cref="IContainer"/>.</summary>
    public TInterface Get<TInterface>(DurableObjectId id, string? locationHint = null)
        where TInterface : IContainer =>
        _objects.Get(id, locationHint).AsReference<TInterface>();
}

/// <summary>A handle to one container object: forward HTTP to its container or call its methods.</summary>
public readonly struct ContainerStub
{
    private readonly ContainerForwarder _forwarder;
    private readonly string _objectId;
    private readonly long? _maxRequestBodySize;
    private readonly IContainer? _object;
    private readonly DurableObjectNamespace<IContainer>? _objects;

    internal ContainerStub(string className, DurableObjectId id, IContainer container, ContainerForwarder forwarder, long? maxRequestBodySize)
    {
        _maxRequestBodySize = maxRequestBodySize;
        ClassName = className;
        Id = id;
        _object = container;
        _forwarder = forwarder;
        _objectId = id.ToString();
    }

    /// <summary>A stub whose object reference is made when it is first needed (by <see cref="Object"/> or a cold request).</summary>
    internal ContainerStub(string className, DurableObjectId id, DurableObjectNamespace<IContainer> objects, ContainerForwarder forwarder, long? maxRequestBodySize)
    {
        _maxRequestBodySize = maxRequestBodySize;
        ClassName = className;
        Id = id;
        _objects = objects;
        _forwarder = forwarder;
        _objectId = id.ToString();
    }

    /// <summary>The container class name.</summary>
    public string ClassName { get; }

    /// <summary>The object's ID.</summary>
    public DurableObjectId Id { get; }

    /// <summary>The object, for start/stop/exec/state calls.</summary>
    public IContainer Object => _object ?? _objects!.Get(Id);

    /// <summary>
    /// Forwards the current request to the container (its default port, or <paramref name="port"/>, or the port chosen with
    /// <see cref="ContainerRequestExtensions.SwitchPort"/>), starting it first when it does not run, and writes the response.
    /// </summary>
    public Task FetchAsync(HttpContext context, int? port = null) =>
        _forwarder.ForwardAsync(context, ClassName, _objectId, Id.Name, new ContainerObjectSource(_object, _objects, Id), port, _maxRequestBodySize);
}

/// <summary>
/// The object a request goes to, as a reference already made or as the namespace and ID to make it from. The gateway makes
/// it only when it calls the object (a container that is not running, or a failed forward), so a warm request makes none.
/// </summary>
internal readonly struct ContainerObjectSource(IContainer? container, DurableObjectNamespace<IContainer>? objects, DurableObjectId id)
{
    /// <summary>The object's reference. Made in the calling flow, so the calls that follow carry the object's name.</summary>
    public IContainer Get() => container ?? objects!.Get(id);
}

/// <summary>Request helpers in the seed's spirit.</summary>
public static class ContainerRequestExtensions
{
    /// <summary>
    /// Sends this request to <paramref name="port"/> of the container instead of its default port. The choice is kept
    /// in the request's features (<see cref="ContainerTargetPort"/>), not in a header, so a client cannot make it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is not between 1 and 65535.</exception>
    public static HttpRequest SwitchPort(this HttpRequest request, int port)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.HttpContext.Features.Set(ContainerTargetPort.For(port));
        return request;
    }
}

internal static class RandomInstanceNames
{
    // Names are precomputed so GetRandom allocates nothing per request for the usual pool sizes.
    private static readonly string[] Names = Enumerable.Range(0, 256).Select(i => $"instance-{i}").ToArray();

    public static string Get(int index) => index < Names.Length ? Names[index] : $"instance-{index}";
}
