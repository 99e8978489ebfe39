using System.Reflection;
using Berth.Containers;
using Berth.Objects;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Yarp.ReverseProxy.Forwarder;

namespace Berth.Gateway.Tests;

/// <summary>
/// The warm path's own state: the per-class name → ID table gives the same IDs as hashing, stays within
/// <see cref="GatewayOptions.NameCacheSize"/> whatever names clients send, and the new gateway settings are validated.
/// </summary>
public sealed class WarmPathTests
{
    private sealed class CachedClass : Container;

    private static ContainerNamespace<CachedClass> Namespace(int nameCacheSize)
    {
        // No silo: the name → ID table never calls the object, so the namespace gets no grain factory.
        var objects = (DurableObjectNamespace<IContainer>)typeof(DurableObjectNamespace<IContainer>)
            .GetConstructors(BindingFlags.NonPublic | BindingFlags.Instance)[0]
            .Invoke([nameof(CachedClass), null, GrainType.Create("cached")]);
        var options = Options.Create(new GatewayOptions { NameCacheSize = nameCacheSize });
        var services = new ServiceCollection().AddKeyedSingleton(nameof(CachedClass), objects).AddSingleton(options).BuildServiceProvider();
        var forwarder = new ContainerForwarder(new HttpForwarderStub(), new ContainerLeaseRegistry(TimeProvider.System), options,
            NullLogger<ContainerForwarder>.Instance, TimeProvider.System);
        return new ContainerNamespace<CachedClass>(services, forwarder);
    }

    [Fact]
    public void GetByName_SameNameAgain_SameIdAsHashingTheName()
    {
        var containers = Namespace(nameCacheSize: 100);

        var first = containers.GetByName("alpha");
        var second = containers.GetByName("alpha");

        Assert.Equal(containers.IdFromName("alpha"), first.Id);
        Assert.Equal(first.Id, second.Id);
        Assert.Equal("alpha", second.Id.Name);
        Assert.Equal(1, containers.CachedNameCount);
    }

    [Fact]
    public void GetByName_ManyInventedNames_TableStaysWithinItsSizeAndIdsStayRight()
    {
        var containers = Namespace(nameCacheSize: 8);

        for (var i = 0; i < 1_000; i++)
        {
            var name = "invented-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(containers.IdFromName(name), containers.GetByName(name).Id);
            Assert.InRange(containers.CachedNameCount, 1, 8);
        }
    }

    [Fact]
    public void GetByName_CacheOff_NothingKept()
    {
        var containers = Namespace(nameCacheSize: 0);

        Assert.Equal(containers.IdFromName("beta"), containers.GetByName("beta").Id);
        Assert.Equal(0, containers.CachedNameCount);
    }

    [Theory]
    [InlineData("NameCacheSize", -1, "Berth:Gateway:NameCacheSize: '-1' is not allowed")]
    [InlineData("NameCacheSize", 1_000_001, "Berth:Gateway:NameCacheSize: '1000001' is not allowed")]
    [InlineData("MaxConnectionsPerContainer", 0, "Berth:Gateway:MaxConnectionsPerContainer: '0' is not allowed")]
    [InlineData("PooledConnectionIdleTimeout", 0, "Berth:Gateway:PooledConnectionIdleTimeout: '00:00:00' is not allowed")]
    [InlineData("Forwarder", 7, "Berth:Gateway:Forwarder: '7' is not allowed; use Http1 or Yarp.")]
    public void GatewayOptions_OutOfRange_FailsNamingTheField(string field, int value, string expected)
    {
        var options = new GatewayOptions();
        switch (field)
        {
            case "NameCacheSize": options.NameCacheSize = value; break;
            case "MaxConnectionsPerContainer": options.MaxConnectionsPerContainer = value; break;
            case "Forwarder": options.Forwarder = (ContainerForwarderKind)value; break;
            default: options.PooledConnectionIdleTimeout = TimeSpan.FromSeconds(value); break;
        }

        var result = new GatewayOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void GatewayOptions_Defaults_Valid()
    {
        var options = new GatewayOptions();

        Assert.True(new GatewayOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(GatewayOptions.DefaultNameCacheSize, options.NameCacheSize);
        Assert.Null(options.MaxConnectionsPerContainer);
        Assert.Equal(TimeSpan.FromSeconds(60), options.PooledConnectionIdleTimeout);
        Assert.Equal(ContainerForwarderKind.Http1, options.Forwarder);
    }

    private sealed class HttpForwarderStub : IHttpForwarder
    {
        public ValueTask<ForwarderError> SendAsync(Microsoft.AspNetCore.Http.HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer) =>
            new(ForwarderError.None);

        public ValueTask<ForwarderError> SendAsync(Microsoft.AspNetCore.Http.HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer, CancellationToken cancellationToken) =>
            new(ForwarderError.None);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InlineScheduling_Option_SetsKestrelsSocketTransport(bool inline)
    {
        using var services = new ServiceCollection().AddLogging().AddBerthGateway(o => o.InlineScheduling = inline).BuildServiceProvider();

        var transport = services.GetRequiredService<IOptions<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>>().Value;

        Assert.Equal(inline, transport.UnsafePreferInlineScheduling);
    }
}
