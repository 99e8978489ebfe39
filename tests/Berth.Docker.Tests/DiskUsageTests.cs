using Berth.Runtime;
using Berth.Testing;

namespace Berth.Docker.Tests;

/// <summary>The engine's measure of a writable layer, which the node's disk watch acts on.</summary>
public class DiskUsageTests(EngineFixture fixture) : EngineTest(fixture)
{
    [Fact]
    public async Task GetWritableLayerBytes_ContainerWrote20MiB_ReportsAtLeastThat()
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/sh", "-c", "dd if=/dev/zero of=/var/tmp/fill bs=1M count=20 && sync && echo written && sleep 60"));
        await ContainerWaits.WaitForLogAsync(Runtime, id, "written", Generous);

        var bytes = await Runtime.GetWritableLayerBytesAsync(id);

        Assert.NotNull(bytes);
        Assert.InRange(bytes.Value, 20L * 1024 * 1024, 30L * 1024 * 1024);
    }

    [Fact]
    public async Task GetWritableLayerBytes_NoSuchContainer_ReturnsNull()
    {
        Assert.Null(await Runtime.GetWritableLayerBytesAsync(UniqueName("missing")));
    }
}
