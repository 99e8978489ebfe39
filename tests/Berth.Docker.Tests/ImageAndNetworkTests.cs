using Berth.Runtime;
using Berth.Testing;

namespace Berth.Docker.Tests;

public class ImageAndNetworkTests(EngineFixture fixture) : EngineTest(fixture), IDisposable
{
    private readonly string _context = Directory.CreateTempSubdirectory("berth-test-context-").FullName;

    private static Dictionary<string, string> TestLabels => new() { [BerthLabels.Test] = "1" };

    [Fact]
    public async Task BuildImage_WithBuildArgs_BakesThemIn()
    {
        File.WriteAllText(Path.Combine(_context, "Dockerfile"), $"""
            FROM {Images.Base}
            ARG GREETING=unset
            COPY message.txt /message.txt
            RUN echo "$GREETING" > /greeting
            CMD ["/bin/sh", "-c", "cat /greeting /message.txt"]
            """);
        File.WriteAllText(Path.Combine(_context, "message.txt"), "from the context\n");
        var tag = $"berth-test/buildargs-{Guid.NewGuid():N}:v1";
        TrackImage(tag);
        var output = new List<string>();

        var image = await Runtime.BuildImageAsync(
            new ImageBuildSpec { ContextDirectory = _context, Tags = [tag], BuildArgs = new Dictionary<string, string> { ["GREETING"] = "hello from args" }, Labels = TestLabels },
            new Progress<string>(output.Add));

        Assert.Contains(tag, image.Tags);
        Assert.Equal("1", image.Labels[BerthLabels.Test]);
        Assert.Equal("1", image.Labels[BerthLabels.Managed]);
        var id = await RunAsync(Spec(tag));
        await WaitForExitAsync(id);
        Assert.Equal(["hello from args", "from the context"], (await ReadLogsAsync(id)).Select(l => l.Text));
    }

    [Fact]
    public async Task BuildImage_DockerIgnore_LeavesExcludedFilesOut()
    {
        File.WriteAllText(Path.Combine(_context, "Dockerfile"), $"""
            FROM {Images.Base}
            COPY . /ctx
            CMD ["/bin/sh", "-c", "ls -a /ctx | sort | tr '\n' ' '"]
            """);
        File.WriteAllText(Path.Combine(_context, ".dockerignore"), "secret.txt\nbuild/\n");
        File.WriteAllText(Path.Combine(_context, "keep.txt"), "keep");
        File.WriteAllText(Path.Combine(_context, "secret.txt"), "secret");
        Directory.CreateDirectory(Path.Combine(_context, "build"));
        File.WriteAllText(Path.Combine(_context, "build", "out.bin"), "x");
        var tag = $"berth-test/ignore-{Guid.NewGuid():N}:v1";
        TrackImage(tag);

        await Runtime.BuildImageAsync(new ImageBuildSpec { ContextDirectory = _context, Tags = [tag], Labels = TestLabels });

        var id = await RunAsync(Spec(tag));
        await WaitForExitAsync(id);
        var listing = Assert.Single(await ReadLogsAsync(id)).Text;
        Assert.Contains("keep.txt", listing, StringComparison.Ordinal);
        Assert.DoesNotContain("secret.txt", listing, StringComparison.Ordinal);
        Assert.DoesNotContain("build", listing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildImage_FailingStep_ThrowsBuildFailedWithTheEngineError()
    {
        File.WriteAllText(Path.Combine(_context, "Dockerfile"), $"""
            FROM {Images.Base}
            RUN echo about to fail && exit 7
            """);
        var tag = $"berth-test/broken-{Guid.NewGuid():N}:v1";
        TrackImage(tag);

        var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() =>
            Runtime.BuildImageAsync(new ImageBuildSpec { ContextDirectory = _context, Tags = [tag], Labels = TestLabels }));

        Assert.Equal(ContainerRuntimeError.BuildFailed, error.Error);
        Assert.Contains("non-zero code: 7", error.Message, StringComparison.Ordinal);
        Assert.Contains(tag, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildImage_MissingBaseImage_ThrowsBuildFailedNamingIt()
    {
        File.WriteAllText(Path.Combine(_context, "Dockerfile"), "FROM berth-test/no-such-base:latest\n");
        var tag = $"berth-test/nobase-{Guid.NewGuid():N}:v1";

        var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() =>
            Runtime.BuildImageAsync(new ImageBuildSpec { ContextDirectory = _context, Tags = [tag], Labels = TestLabels }));

        Assert.Equal(ContainerRuntimeError.BuildFailed, error.Error);
        Assert.Contains("berth-test/no-such-base", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportImage_BusyboxRootfs_RunsAndCarriesLabels()
    {
        var reference = $"berth-test/imported-{Guid.NewGuid():N}:v1";
        TrackImage(reference);
        using var rootfs = new MemoryStream();
        await BusyboxRootfs.WriteAsync(rootfs);
        rootfs.Position = 0;

        var image = await Runtime.ImportImageAsync(rootfs, reference, new Dictionary<string, string> { [BerthLabels.Test] = "1", ["berth.test.note"] = "with \"quotes\" and spaces" });

        Assert.Contains(reference, image.Tags);
        Assert.Equal("with \"quotes\" and spaces", image.Labels["berth.test.note"]);
        Assert.Equal("1", image.Labels[BerthLabels.Managed]);
        var id = await RunAsync(Spec(reference, "/bin/sh", "-c", "echo imported; ls /lib/x86_64-linux-gnu/libc.so.6"));
        Assert.Equal(0, (await WaitForExitAsync(id)).ExitCode);
        Assert.Contains(await ReadLogsAsync(id), l => l.Text == "imported");
    }

    [Fact]
    public async Task RemoveImage_Twice_SucceedsAndImageIsGone()
    {
        var reference = $"berth-test/removable-{Guid.NewGuid():N}:v1";
        File.WriteAllText(Path.Combine(_context, "Dockerfile"), $"FROM {Images.Base}\nLABEL purpose=remove\n");
        await Runtime.BuildImageAsync(new ImageBuildSpec { ContextDirectory = _context, Tags = [reference], Labels = TestLabels });

        await Runtime.RemoveImageAsync(reference);
        await Runtime.RemoveImageAsync(reference);

        Assert.Null(await Runtime.InspectImageAsync(reference));
    }

    [Fact]
    public async Task ListImages_ByTestLabel_IncludesTheTestImages()
    {
        var images = await Runtime.ListImagesAsync(TestLabels);

        Assert.Contains(images, i => i.Tags.Contains(TestImages.BaseImage));
        Assert.Contains(images, i => i.Tags.Contains(TestImages.AppImage));
    }

    [Fact]
    public async Task EnsureNetwork_Twice_ReturnsTheSameNetwork()
    {
        var spec = new NetworkSpec { Name = UniqueName("net"), Labels = TestResources.Labels(), Internal = true };

        var first = await Runtime.EnsureNetworkAsync(spec);
        TrackNetwork(first);
        var second = await Runtime.EnsureNetworkAsync(spec);

        Assert.Equal(first, second);
        var listed = Assert.Single(await Runtime.ListNetworksAsync(new Dictionary<string, string> { [TestResources.OwnerLabel] = TestResources.CurrentOwner }), n => n.Id == first);
        Assert.True(listed.Internal);
        Assert.Equal(spec.Name, listed.Name);
    }

    [Fact]
    public async Task Create_OnNetwork_ContainerGetsAnAddressThatAnswers()
    {
        var network = await Runtime.EnsureNetworkAsync(new NetworkSpec { Name = UniqueName("net"), Labels = TestResources.Labels() });
        TrackNetwork(network);
        var spec = AppSpec() with { Network = (await Runtime.ListNetworksAsync(TestResources.Labels())).Single(n => n.Id == network).Name };
        var id = await RunAsync(spec);
        await ContainerWaits.WaitForLogAsync(Runtime, id, "listening on", Generous);

        var status = await Runtime.InspectAsync(id);

        Assert.Equal(spec.Network, status!.Network);
        Assert.NotNull(status.IpAddress);
        var answer = await Http.GetStringAsync(new Uri($"http://{status.IpAddress}:{TestImages.AppPort}/"));
        Assert.Contains("hostname", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemoveNetwork_Twice_Succeeds()
    {
        var network = await Runtime.EnsureNetworkAsync(new NetworkSpec { Name = UniqueName("net"), Labels = TestResources.Labels() });

        await Runtime.RemoveNetworkAsync(network);
        await Runtime.RemoveNetworkAsync(network);

        Assert.DoesNotContain(await Runtime.ListNetworksAsync(TestResources.Labels()), n => n.Id == network);
    }

    public void Dispose() => Directory.Delete(_context, recursive: true);
}
