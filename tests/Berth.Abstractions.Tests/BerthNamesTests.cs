namespace Berth.Abstractions.Tests;

public sealed class BerthNamesTests
{
    [Fact]
    public void Container_TwoNodesOneObject_NamesDiffer()
    {
        var a = BerthNames.Container("shop", "aaaaaaaaaaaa", "Api", "0123abcd");
        var b = BerthNames.Container("shop", "bbbbbbbbbbbb", "Api", "0123abcd");

        Assert.Equal("berth-shop-aaaaaaaaaaaa-api-0123abcd", a);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Container_EmptyNodeId_Throws() =>
        Assert.Throws<ArgumentException>(() => BerthNames.Container("shop", "", "Api", "0123abcd"));

    [Theory]
    [InlineData(true, "berth-shop")]
    [InlineData(false, "berth-shop-internal")]
    public void Network_ByInternetAccess_NamesTheAppsNetwork(bool enableInternet, string expected) =>
        Assert.Equal(expected, BerthNames.Network("shop", enableInternet));

    [Theory]
    [InlineData("shop", "My_Api_", "berth-shop-my-api")]
    [InlineData("Shop", "Api", "berth-shop-api")]
    public void ImageRepository_AnyClassName_IsAValidLowercaseRepository(string app, string className, string expected) =>
        Assert.Equal(expected, BerthNames.ImageRepository(app, className));

    [Theory]
    [InlineData("my-api:1.0", "my-api", "1.0")]
    [InlineData("my-api", "my-api", "latest")]
    [InlineData("localhost:5000/team/api", "localhost:5000/team/api", "latest")]
    [InlineData("localhost:5000/team/api:2", "localhost:5000/team/api", "2")]
    [InlineData("api:3@sha256:abcd", "api", "3")]
    public void SplitImageReference_RegistryPortAndDigest_SplitsAtTheTagColon(string reference, string repository, string tag) =>
        Assert.Equal((repository, tag), BerthNames.SplitImageReference(reference));

    [Theory]
    [InlineData("berth-shop-api:0123456789ab", "0123456789ab")]
    [InlineData("localhost:5000/api", "localhost:5000/api")]
    public void ImageVersion_TaggedOrNot_TagOrWholeReference(string reference, string expected) =>
        Assert.Equal(expected, BerthNames.ImageVersion(reference));

    [Fact]
    public void ForContainer_ExtraLabelsClash_BerthsOwnWin()
    {
        var extra = new Dictionary<string, string> { [BerthLabels.Test] = "1", [BerthLabels.Node] = "forged", [BerthLabels.App] = "other" };

        var labels = BerthNames.ForContainer("shop", "node1", "Api", "obj", "berth-shop-api:v7", extra);

        Assert.Equal(new Dictionary<string, string>
        {
            [BerthLabels.Test] = "1",
            [BerthLabels.Managed] = "1",
            [BerthLabels.App] = "shop",
            [BerthLabels.Node] = "node1",
            [BerthLabels.Class] = "Api",
            [BerthLabels.ObjectId] = "obj",
            [BerthLabels.Image] = "berth-shop-api:v7",
            [BerthLabels.Version] = "v7",
        }, labels);
    }

    [Fact]
    public void ForNode_SelectsOnlyThatNodesContainers()
    {
        var mine = BerthNames.ForContainer("shop", "node1", "Api", "obj", "api:1");
        var theirs = BerthNames.ForContainer("shop", "node2", "Api", "obj", "api:1");
        var filter = BerthNames.ForNode("shop", "node1");

        Assert.True(filter.All(kv => mine.GetValueOrDefault(kv.Key) == kv.Value));
        Assert.False(filter.All(kv => theirs.GetValueOrDefault(kv.Key) == kv.Value));
    }

    [Theory]
    [InlineData("0123456789ab", true)]
    [InlineData("node-1", true)]
    [InlineData("", false)]
    [InlineData("-node", false)]
    [InlineData("Node", false)]
    [InlineData("node_1", false)]
    [InlineData("node 1", false)]
    [InlineData("abcdefghijabcdefghijabcdefghijabc", false)]
    public void IsValidNodeId_Candidates_OnlyLowercaseDnsLike(string candidate, bool expected) =>
        Assert.Equal(expected, BerthNames.IsValidNodeId(candidate));

    [Fact]
    public void NewNodeId_TwoCalls_ValidAndDifferent()
    {
        var a = BerthNames.NewNodeId();
        var b = BerthNames.NewNodeId();

        Assert.True(BerthNames.IsValidNodeId(a), a);
        Assert.Equal(12, a.Length);
        Assert.NotEqual(a, b);
    }
}
