using Berth.Containers;
using Berth.Hosting.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Berth.Hosting.Tests;

public sealed class NodeIdentityTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void LoadOrCreate_SameDirectoryTwice_SameId()
    {
        var data = Path.Combine(_dir.Path, "data");

        var first = NodeIdentity.LoadOrCreate(data);
        var second = NodeIdentity.LoadOrCreate(data);

        Assert.True(BerthNames.IsValidNodeId(first), first);
        Assert.Equal(first, second);
        Assert.Equal(first, File.ReadAllText(Path.Combine(data, NodeIdentity.FileName)).Trim());
    }

    [Fact]
    public void LoadOrCreate_TwoDirectories_TwoIds() =>
        Assert.NotEqual(NodeIdentity.LoadOrCreate(Path.Combine(_dir.Path, "a")), NodeIdentity.LoadOrCreate(Path.Combine(_dir.Path, "b")));

    [Fact]
    public void LoadOrCreate_CorruptFile_ThrowsNamingTheFileInsteadOfReplacingIt()
    {
        var path = _dir.Write("data/node-id", "../../etc");

        var ex = Assert.Throws<InvalidOperationException>(() => NodeIdentity.LoadOrCreate(Path.Combine(_dir.Path, "data")));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Equal("../../etc", File.ReadAllText(path));
    }

    [Fact]
    public void AddBerth_NoNodeIdSet_TakesTheOneInTheDataDirectoryNotTheMachineName()
    {
        var data = Path.Combine(_dir.Path, "data");
        var kept = NodeIdentity.LoadOrCreate(data);

        var options = BuildContainerOptions(data, nodeId: null);

        Assert.Equal(kept, options.NodeId);
        Assert.Equal(Environment.MachineName, options.NodeName);
    }

    [Fact]
    public void AddBerth_NodeIdConfigured_KeepsItAndWritesNoFile()
    {
        var data = Path.Combine(_dir.Path, "data");

        var options = BuildContainerOptions(data, nodeId: "edge-1");

        Assert.Equal("edge-1", options.NodeId);
        Assert.False(File.Exists(Path.Combine(data, NodeIdentity.FileName)));
    }

    [Fact]
    public void AddBerth_BadNodeIdConfigured_FailsValidationNamingTheField()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => BuildContainerOptions(Path.Combine(_dir.Path, "data"), nodeId: "Node 1"));

        Assert.Contains("Berth:Containers:NodeId: 'Node 1' is not allowed", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Bogus")]
    [InlineData("7")]
    public void AddBerth_UnknownGatewayForwarder_FailsValidationNamingTheFieldAndAllowedValues(string value)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = _dir.Path, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Berth:Objects:DataDirectory"] = Path.Combine(_dir.Path, "data"),
            ["Berth:Gateway:Forwarder"] = value,
        });
        builder.AddBerth();
        using var host = builder.Build();

        var ex = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<Berth.Gateway.GatewayOptions>>().Value);

        Assert.Contains($"Berth:Gateway:Forwarder: '{value}' is not allowed; use Http1 or Yarp.", ex.Message, StringComparison.Ordinal);
    }

    private ContainerOptions BuildContainerOptions(string dataDirectory, string? nodeId)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = _dir.Path, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Berth:Objects:DataDirectory"] = dataDirectory,
            ["Berth:Containers:NodeId"] = nodeId,
        });
        builder.AddBerth();
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptions<ContainerOptions>>().Value;
    }
}
