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

    /// <summary>Creates the binding.</summary>
    public ContainerNamespace(IServiceProvider services, ContainerForwarder forwarder)
    {
        ArgumentNullException.ThrowIfNull(services);
        _objects = services.GetRequiredKeyedService<DurableObjectNamespace<IContainer>>(typeof(TContainer).Name);
        _forwarder = forwarder;
        _pools = services.GetService<Pools.ContainerPoolRegistry>();
        // Read once: the class's own body limit, between a route's and the gateway's.
        _maxRequestBodySize = services.GetService<ContainerClassRegistry>() is { } classes && classes.TryGet(ClassName, out var containerClass)
            ? containerClass.Options.MaxRequestBodySize
            : null;
    }

    /// <summary>The container class name.</summary>
    public string ClassName => _objects.Name;

    /// <summary>The ID for a name; the same name always gives the same ID.</summary>
    public DurableObjectId IdFromName(string name) => _objects.IdFromName(name);

    /// <summary>A new random ID.</summary>
    public DurableObjectId NewUniqueId() => _objects.NewUniqueId();

    /// <summary>Parses an ID made earlier.</summary>
    public DurableObjectId IdFromString(string id) => _objects.IdFromString(id);

    /// <summary>The stub of the container with this ID.</summary>
    public ContainerStub Get(DurableObjectId id, string? locationHint = null) =>
        new(ClassName, id, _objects.Get(id, locationHint), _forwarder, _maxRequestBodySize);

    /// <summary>The stub of the container for a name (the seed's <c>getContainer(ns, name)</c>).</summary>
    public ContainerStub GetByName(string name, string? locationHint = null) => Get(IdFromName(name), locationHint);

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

    internal ContainerStub(string className, DurableObjectId id, IContainer container, ContainerForwarder forwarder, long? maxRequestBodySize)
    {
        _maxRequestBodySize = maxRequestBodySize;
        ClassName = className;
        Id = id;
        Object = container;
        _forwarder = forwarder;
        _objectId = id.ToString();
    }

    /// <summary>The container class name.</summary>
    public string ClassName { get; }

    /// <summary>The object's ID.</summary>
    public DurableObjectId Id { get; }

    /// <summary>The object, for start/stop/exec/state calls.</summary>
    public IContainer Object { get; }

    /// <summary>
    /// Forwards the current request to the container (its default port, or <paramref name="port"/>, or the port chosen with
    /// <see cref="ContainerRequestExtensions.SwitchPort"/>), starting it first when it does not run, and writes the response.
    /// </summary>
    public Task FetchAsync(HttpContext context, int? port = null) =>
        _forwarder.ForwardAsync(context, ClassName, _objectId, Id.Name, Object, port, _maxRequestBodySize);
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
