using Berth.Runtime;
using Berth.Testing;

namespace Berth.Docker.Tests;

public class TestResourcesTests(EngineFixture fixture) : EngineTest(fixture)
{
    [Fact]
    public async Task Cleanup_LeftoverOfADeadTestProcess_IsRemoved()
    {
        var labels = TestResources.Labels(new Dictionary<string, string> { [TestResources.OwnerLabel] = "999999999-1" });
        var id = await RunAsync(Spec(Images.Base, "/bin/sleep", "600") with { Labels = labels });

        await TestResources.CleanupAsync(Runtime);

        Assert.Null(await Runtime.InspectAsync(id));
    }

    [Fact]
    public async Task Cleanup_ContainerOfAnotherLiveProcess_IsKept()
    {
        var owner = TestResources.OwnerOf(1);
        var labels = TestResources.Labels(new Dictionary<string, string> { [TestResources.OwnerLabel] = owner });
        var id = await CreateAsync(Spec(Images.Base, "/bin/true") with { Labels = labels });

        await TestResources.CleanupAsync(Runtime);

        Assert.NotNull(await Runtime.InspectAsync(id));
    }

    [Fact]
    public async Task Cleanup_ContainerAndNetworkOfThisProcess_AreKept()
    {
        // Another test class of this assembly may be between creating its network and attaching its container: a class
        // fixture's clean-up must not take either (CI saw a cluster node's new network vanish before its container).
        var network = await Runtime.EnsureNetworkAsync(new NetworkSpec { Name = UniqueName("net"), Labels = TestResources.Labels() });
        var id = await CreateAsync(Spec(Images.Base, "/bin/true") with { Labels = TestResources.Labels() });
        try
        {
            await TestResources.CleanupAsync(Runtime);

            Assert.NotNull(await Runtime.InspectAsync(id));
            Assert.Contains(await Runtime.ListNetworksAsync(TestResources.Labels()), n => n.Id == network);
        }
        finally
        {
            await Runtime.RemoveAsync(id);
            await Runtime.RemoveNetworkAsync(network);
        }
    }

    [Fact]
    public async Task EnsureBuilt_CalledConcurrently_ReturnsTheSameImagesWithTestLabels()
    {
        var sets = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => TestImages.EnsureBuiltAsync(Runtime)));

        Assert.All(sets, s => Assert.Equal(Images, s));
        foreach (var reference in new[] { Images.Base, Images.App, Images.IgnoreSigterm, Images.MemoryHog })
        {
            var image = await Runtime.InspectImageAsync(reference);
            Assert.Equal("1", image!.Labels[BerthLabels.Test]);
            Assert.Equal("1", image.Labels[BerthLabels.Managed]);
        }
    }
}
