namespace Berth.Containers.Tests;

public sealed class ContainerEndpointTests
{
    [Fact]
    public void GetDestinationPrefix_DefaultPort_IsHttpHostPortSlash()
    {
        var endpoint = new ContainerEndpoint("c1", "172.18.0.5", 8080, [8080]);

        Assert.Equal("http://172.18.0.5:8080/", endpoint.GetDestinationPrefix(8080));
    }

    [Fact]
    public void GetDestinationPrefix_OtherCheckedPort_UsesThatPort()
    {
        var endpoint = new ContainerEndpoint("c1", "172.18.0.5", 8080, [8080, 9090]);

        Assert.Equal("http://172.18.0.5:9090/", endpoint.GetDestinationPrefix(9090));
    }

    [Fact]
    public void GetDestinationPrefix_DefaultPortNotInPorts_StillKnown()
    {
        var endpoint = new ContainerEndpoint("c1", "10.1.2.3", 8080, [9090]);

        Assert.Equal("http://10.1.2.3:8080/", endpoint.GetDestinationPrefix(8080));
        Assert.Equal("http://10.1.2.3:9090/", endpoint.GetDestinationPrefix(9090));
    }

    [Fact]
    public void GetDestinationPrefix_UncheckedPort_BuiltOnDemand()
    {
        var endpoint = new ContainerEndpoint("c1", "10.1.2.3", 8080, [8080]);

        Assert.Equal("http://10.1.2.3:3000/", endpoint.GetDestinationPrefix(3000));
    }

    [Fact]
    public void GetDestinationPrefix_SamePortTwice_ReturnsCachedString()
    {
        var endpoint = new ContainerEndpoint("c1", "10.1.2.3", 8080, [8080, 9090]);

        Assert.Same(endpoint.GetDestinationPrefix(9090), endpoint.GetDestinationPrefix(9090));
    }

    [Fact]
    public void GetDestinationPrefix_HostName_KeptAsGiven()
    {
        var endpoint = new ContainerEndpoint("c1", "localhost", 80, [80]);

        Assert.Equal("http://localhost:80/", endpoint.GetDestinationPrefix(80));
        Assert.True(Uri.TryCreate(endpoint.GetDestinationPrefix(80), UriKind.Absolute, out _));
    }

    [Fact]
    public void GetDestinationPrefix_PortsWithDuplicates_DoesNotThrow()
    {
        var endpoint = new ContainerEndpoint("c1", "10.1.2.3", 8080, [8080, 8080, 9090]);

        Assert.Equal("http://10.1.2.3:8080/", endpoint.GetDestinationPrefix(8080));
    }
}
