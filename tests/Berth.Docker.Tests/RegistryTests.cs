using System.Formats.Tar;
using System.Text;
using Berth.Runtime;
using Berth.Testing;

namespace Berth.Docker.Tests;

/// <summary>
/// The node's registry (Debian's docker-registry on 127.0.0.1:5000, started by scripts/bootstrap.sh): images built from a
/// streamed context, pushed, and pulled back by digest.
/// </summary>
public class RegistryTests(EngineFixture fixture) : EngineTest(fixture)
{
    public const string Registry = "127.0.0.1:5000";

    internal static async Task EnsureRegistryAsync()
    {
        try
        {
            using var response = await Http.GetAsync(new Uri($"http://{Registry}/v2/"));
            Assert.True(response.IsSuccessStatusCode, $"The registry at {Registry} answered {(int)response.StatusCode}.");
        }
        catch (HttpRequestException ex)
        {
            Assert.Fail($"No image registry on {Registry} ({ex.Message}): scripts/bootstrap.sh installs and starts docker-registry there.");
        }
    }

    internal static MemoryStream Context(params (string Name, string Text)[] files)
    {
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, text) in files)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) });
            }
        }

        tar.Position = 0;
        return tar;
    }

    [Fact]
    public async Task PushThenPullByDigest_AfterTheLocalImageIsRemoved_RunsTheSameImage()
    {
        await EnsureRegistryAsync();
        var name = $"berth-test-reg-{Guid.NewGuid():N}";
        var local = $"berth-test/{name}:v1";
        var remote = $"{Registry}/{name}:v1";
        TrackImage(local);
        TrackImage(remote);
        using var context = Context(("Dockerfile", $"FROM {Images.Base}\nCOPY hello.txt /hello.txt\nCMD [\"/bin/cat\", \"/hello.txt\"]\n"), ("hello.txt", "pushed and pulled\n"));
        var built = await Runtime.BuildImageFromContextAsync(context, "Dockerfile", [local], TestResources.Labels());

        await Runtime.TagImageAsync(local, remote);
        var digest = await Runtime.PushImageAsync(remote);
        await Runtime.RemoveImageAsync(local, force: true);
        await Runtime.RemoveImageAsync(remote, force: true);
        Assert.Null(await Runtime.InspectImageAsync(built.Id));
        var byDigest = $"{Registry}/{name}@{digest}";
        TrackImage(byDigest);
        await Runtime.PullImageAsync(byDigest);

        Assert.StartsWith("sha256:", digest, StringComparison.Ordinal);
        Assert.Equal(built.Id, (await Runtime.InspectImageAsync(byDigest))?.Id);
        Assert.Contains(byDigest, await Runtime.GetRepoDigestsAsync(byDigest) ?? []);
        var id = await RunAsync(Spec(byDigest));
        await WaitForExitAsync(id);
        Assert.Equal(["pushed and pulled"], (await ReadLogsAsync(id)).Select(l => l.Text.TrimEnd('\n')));
    }

    [Fact]
    public async Task BuildFromContext_FailingStep_ThrowsBuildFailedWithTheStepsOutput()
    {
        var tag = $"berth-test/failing-{Guid.NewGuid():N}:v1";
        TrackImage(tag);
        using var context = Context(("Dockerfile", $"FROM {Images.Base}\nRUN echo broken-on-purpose && exit 7\n"));

        var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() =>
            Runtime.BuildImageFromContextAsync(context, "Dockerfile", [tag], TestResources.Labels()));

        Assert.Equal(ContainerRuntimeError.BuildFailed, error.Error);
        Assert.Contains("broken-on-purpose", error.Message, StringComparison.Ordinal);
        Assert.Null(await Runtime.InspectImageAsync(tag));
    }

    [Fact]
    public async Task PullImage_UnknownDigest_ThrowsImageNotFound()
    {
        await EnsureRegistryAsync();

        var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() =>
            Runtime.PullImageAsync($"{Registry}/berth-test-missing@sha256:{new string('0', 64)}"));

        Assert.Equal(ContainerRuntimeError.ImageNotFound, error.Error);
    }
}
