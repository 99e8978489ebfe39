using Microsoft.Extensions.Configuration;

namespace Berth.Cluster.Tests;

public sealed class ClusterSettingsTests
{
    private static IConfiguration Section(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public void Read_NothingConfigured_IsOneLocalhostNode()
    {
        var settings = BerthClusterSettings.Read(Section());

        Assert.Equal(BerthClusterSettings.LocalhostProvider, settings.Provider);
        Assert.False(settings.IsCluster);
        Assert.Equal("", settings.Location);
    }

    [Fact]
    public void Read_UnknownProvider_NamesTheKeyAndTheAllowedValues()
    {
        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Provider", "etcd"))));

        Assert.Contains(BerthClusterSettings.ProviderKey, error.Message, StringComparison.Ordinal);
        Assert.Contains("'etcd'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'postgres'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Read_PostgresWithoutConnection_NamesTheConnectionKey()
    {
        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Provider", "postgres"))));

        Assert.Contains(BerthClusterSettings.ConnectionKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MalformedConnection_NamesTheConnectionKey()
    {
        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Provider", "postgres"), ("Connection", "Host=x;NoSuchKeyword=1"))));

        Assert.Contains(BerthClusterSettings.ConnectionKey, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("EU West")]
    [InlineData("-eu")]
    [InlineData("eu/west")]
    public void Read_InvalidLocation_NamesTheLocationKey(string location)
    {
        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Location", location))));

        Assert.Contains(BerthClusterSettings.LocationKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_FullPostgresSection_KeepsEveryField()
    {
        var settings = BerthClusterSettings.Read(Section(
            ("Provider", "Postgres"), ("Connection", "Host=db;Username=berth"), ("Location", "eu-west"), ("ClusterId", "shop"), ("AdvertiseAddress", "10.0.0.5")));

        Assert.True(settings.IsCluster);
        Assert.Equal("Host=db;Username=berth", settings.Connection);
        Assert.Equal("eu-west", settings.Location);
        Assert.Equal("shop", settings.ClusterId);
        Assert.Equal("10.0.0.5", settings.AdvertiseAddress?.ToString());
    }

    [Fact]
    public void Read_NoForwarding_IsDirectWithoutAdvertiseUrl()
    {
        var settings = BerthClusterSettings.Read(Section());

        Assert.Equal(BerthClusterSettings.DirectForwarding, settings.Forwarding);
        Assert.Null(settings.AdvertiseUrl);
    }

    [Fact]
    public void Read_NodeForwardingWithAdvertiseUrl_IsRead()
    {
        var settings = BerthClusterSettings.Read(Section(("Forwarding", "Node"), ("AdvertiseUrl", "https://10.0.0.5:8443")));

        Assert.Equal(BerthClusterSettings.NodeForwarding, settings.Forwarding);
        Assert.Equal(new Uri("https://10.0.0.5:8443"), settings.AdvertiseUrl);
    }

    [Fact]
    public void Read_UnknownForwarding_NamesTheKeyAndTheAllowedValues()
    {
        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("Forwarding", "gateway"))));

        Assert.Contains(BerthClusterSettings.ForwardingKey, error.Message, StringComparison.Ordinal);
        Assert.Contains("'gateway'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'direct'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'node'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.5:8080")]
    [InlineData("ftp://10.0.0.5")]
    [InlineData("http://10.0.0.5:8080/berth")]
    [InlineData("http://10.0.0.5:8080/?x=1")]
    public void Read_BadAdvertiseUrl_NamesTheKey(string url)
    {
        var error = Assert.Throws<ArgumentException>(() => BerthClusterSettings.Read(Section(("AdvertiseUrl", url))));

        Assert.Contains(BerthClusterSettings.AdvertiseUrlKey, error.Message, StringComparison.Ordinal);
        Assert.Contains(url, error.Message, StringComparison.Ordinal);
    }
}
