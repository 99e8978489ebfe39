using Berth.Hosting;
using Microsoft.Extensions.Configuration;

namespace Berth.Cluster.Tests;

public sealed class ClusterConfigFileTests
{
    [Fact]
    public void ClusterObject_Postgres_FeedsTheClusterKeys()
    {
        var config = BerthConfigFile.Parse(
            """{ "name": "shop", "cluster": { "provider": "postgres", "connection": "Host=db;Username=berth", "cluster_id": "shop-eu" } }""", ".");

        var configuration = new ConfigurationBuilder().AddBerthVars(config).Build();
        var settings = BerthClusterSettings.Read(configuration.GetSection("Berth:Cluster"));

        Assert.True(settings.IsCluster);
        Assert.Equal("Host=db;Username=berth", settings.Connection);
        Assert.Equal("shop-eu", settings.ClusterId);
    }

    [Fact]
    public void ClusterObject_EnvironmentOverridesTheFile()
    {
        var config = BerthConfigFile.Parse("""{ "name": "shop", "cluster": { "provider": "postgres", "connection": "Host=file" } }""", ".");

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([KeyValuePair.Create("Berth:Cluster:Connection", (string?)"Host=env")])
            .AddBerthVars(config)
            .Build();

        Assert.Equal("Host=env", configuration["Berth:Cluster:Connection"]);
    }

    [Theory]
    [InlineData("""{ "name": "shop", "cluster": { "provider": "etcd" } }""", "cluster.provider")]
    [InlineData("""{ "name": "shop", "cluster": { "provider": "postgres" } }""", "cluster.connection")]
    [InlineData("""{ "name": "shop", "cluster": { "provider": "postgres", "connection": "Host=db", "location": "eu" } }""", "cluster.location")]
    [InlineData("""{ "name": "shop", "cluster": "postgres" }""", "cluster")]
    [InlineData("""{ "name": "shop", "cluster": { "provider": "postgres", "connection": "Host=db", "forwarding": "gateway" } }""", "cluster.forwarding")]
    public void ClusterObject_Invalid_NamesTheField(string json, string field)
    {
        var error = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse(json, "."));

        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClusterObject_Forwarding_FeedsTheForwardingKey()
    {
        var config = BerthConfigFile.Parse(
            """{ "name": "shop", "cluster": { "provider": "postgres", "connection": "Host=db;Username=berth", "forwarding": "node" } }""", ".");

        var configuration = new ConfigurationBuilder().AddBerthVars(config).Build();

        Assert.Equal(BerthClusterSettings.NodeForwarding, BerthClusterSettings.Read(configuration.GetSection("Berth:Cluster")).Forwarding);
    }
}
