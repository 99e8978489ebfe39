using System.Reflection;
using BenchmarkDotNet.Attributes;
using Berth.Containers;
using Berth.Gateway;
using Berth.Objects;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Yarp.ReverseProxy.Forwarder;

namespace Berth.Bench.Micro;

/// <summary>A container class for the routing benchmarks; it is never activated.</summary>
public sealed class BenchContainer : Container;

/// <summary>
/// The platform's share of a warm request. <see cref="WarmPath_FindEnterDestinationExit"/> is the lease table alone;
/// <see cref="WarmRequest_NameToForwarder"/> is everything Berth does for a request to a running container, from the
/// name to the call into YARP's forwarder (replaced here by one that answers at once): the cached name → ID, the stub,
/// the forwarder's body limit, lease and destination. Both must allocate 0 B. The transform pair shows what
/// <c>ContainerTransformer</c> adds to YARP's default transform (X-Forwarded-*, Host), which YARP allocates either way.
/// </summary>
[MemoryDiagnoser]
public class RoutingBenchmarks
{
    private const string ClassName = nameof(BenchContainer);
    private const string ObjectId = "3f1c2b7a9d8e4f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";
    private readonly ContainerLeaseRegistry _registry = new(TimeProvider.System);
    private ContainerNamespace<BenchContainer> _containers = null!;
    private DefaultHttpContext _context = null!;

    [GlobalSetup]
    public void Setup()
    {
        // A node with a few thousand running containers, so the lookup is not into an almost empty table.
        for (var i = 0; i < 5_000; i++)
        {
            _registry.GetOrAdd(ClassName, i.ToString("x64", System.Globalization.CultureInfo.InvariantCulture));
        }

        _registry.GetOrAdd(ClassName, ObjectId).OpenFor(new ContainerEndpoint("c0ffee", "172.18.0.2", 8080, [8080]));

        // The namespace's grain factory is never reached on the warm path (the object is not called), so none is given.
        var objects = (DurableObjectNamespace<IContainer>)typeof(DurableObjectNamespace<IContainer>)
            .GetConstructors(BindingFlags.NonPublic | BindingFlags.Instance)[0]
            .Invoke([ClassName, null, GrainType.Create("bench")]);
        var services = new ServiceCollection()
            .AddKeyedSingleton(ClassName, objects)
            .AddSingleton(Options.Create(new GatewayOptions()))
            .BuildServiceProvider();
        // YARP's path, whose forwarder is replaced: this benchmark is Berth's work up to the forwarder (ForwardingBenchmarks has the forwarders).
        var forwarder = new ContainerForwarder(new AnsweringForwarder(), _registry, Options.Create(new GatewayOptions { Forwarder = ContainerForwarderKind.Yarp }),
            NullLogger<ContainerForwarder>.Instance, TimeProvider.System);
        _containers = new ContainerNamespace<BenchContainer>(services, forwarder);
        var name = "warm";
        var id = _containers.GetByName(name).Id.ToString();
        _registry.GetOrAdd(ClassName, id).OpenFor(new ContainerEndpoint("c0ffee", "172.18.0.2", 8080, [8080]));

        _context = WarmGet();
    }

    /// <summary>The benchmarks' warm request: <c>GET http://127.0.0.1:8787/c/warm/hello</c> with the route's prefix in <c>PathBase</c>.</summary>
    internal static DefaultHttpContext WarmGet()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("127.0.0.1", 8787);
        context.Request.PathBase = "/c/warm";
        context.Request.Path = "/hello";
        return context;
    }

    [Benchmark]
    public string WarmPath_FindEnterDestinationExit()
    {
        var lease = _registry.Find(ClassName, ObjectId)!;
        lease.TryEnter(out var endpoint);
        var destination = endpoint!.GetDestinationPrefix(8080);
        lease.Exit();
        return destination;
    }

    [Benchmark]
    public Task WarmRequest_NameToForwarder() => _containers.GetByName("warm").FetchAsync(_context);

    [Benchmark]
    public async ValueTask<HttpRequestMessage> Transform_YarpDefault()
    {
        var request = new HttpRequestMessage();
        await HttpTransformer.Default.TransformRequestAsync(_context, request, "http://172.18.0.2:8080/", CancellationToken.None);
        return request;
    }

    [Benchmark]
    public async ValueTask<HttpRequestMessage> Transform_Berth()
    {
        var request = new HttpRequestMessage();
        await ContainerTransformer.Instance.TransformRequestAsync(_context, request, "http://172.18.0.2:8080/", CancellationToken.None);
        return request;
    }

    /// <summary>YARP's forwarder replaced by one that answers at once, so only Berth's work is measured.</summary>
    private sealed class AnsweringForwarder : IHttpForwarder
    {
        public ValueTask<ForwarderError> SendAsync(HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer) =>
            new(ForwarderError.None);

        public ValueTask<ForwarderError> SendAsync(HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer, CancellationToken cancellationToken) =>
            new(ForwarderError.None);
    }
}
