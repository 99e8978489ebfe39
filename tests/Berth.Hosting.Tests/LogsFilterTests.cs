namespace Berth.Hosting.Tests;

/// <summary><c>object=</c> of the live-log stream: a client-chosen name never pulls in another object's lines.</summary>
public sealed class LogsFilterTests
{
    private const string AliceId = "b565731d0000000000000000000000000000000000000000000000000000aaaa";
    private const string B5Id = "0f0f0f0f0000000000000000000000000000000000000000000000000000bbbb";

    [Fact]
    public void WantsContainer_NameThatIsAnotherObjectsIdPrefix_OnlyTheObjectWithThatName()
    {
        var filter = new LiveLogFilter(null, "b565", Containers: true, Platform: true, MinLevel: null);

        Assert.True(filter.WantsContainer("MyContainer", B5Id, "b565"));
        Assert.False(filter.WantsContainer("MyContainer", AliceId, "alice"));
    }

    [Fact]
    public void WantsContainer_IdOrItsPrefix_FullIdForANamedObjectPrefixForAnUnnamedOne()
    {
        Assert.True(new LiveLogFilter(null, AliceId, true, true, null).WantsContainer("MyContainer", AliceId, "alice"));
        Assert.True(new LiveLogFilter(null, "b565731d", true, true, null).WantsContainer("MyContainer", AliceId, null));
        Assert.True(new LiveLogFilter(null, "alice", true, true, null).WantsContainer("MyContainer", AliceId, "alice"));
    }
}
