using Berth.Runtime;
using Berth.Testing;

namespace Berth.Docker.Tests;

/// <summary>A failing build names its failing step and shows that step's output; BuildKit-only Dockerfiles fail up front.</summary>
public class BuildProgressTests(EngineFixture fixture) : EngineTest(fixture), IDisposable
{
    private readonly string _context = Directory.CreateTempSubdirectory("berth-test-context-").FullName;

    private static Dictionary<string, string> TestLabels => new() { [BerthLabels.Test] = "1" };

    public void Dispose() => Directory.Delete(_context, recursive: true);

    [Fact]
    public async Task BuildImage_FailingStep_MessageNamesTheStepAndShowsItsOutput()
    {
        File.WriteAllText(Path.Combine(_context, "Dockerfile"), $"""
            FROM {Images.Base}
            RUN echo step two is fine
            RUN echo compiling the thing && echo "error: the thing is broken" && exit 3
            CMD ["true"]
            """);
        var tag = $"berth-test/failing-step-{Guid.NewGuid():N}:v1";
        TrackImage(tag);
        var progress = new List<string>();

        var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() =>
            Runtime.BuildImageAsync(new ImageBuildSpec { ContextDirectory = _context, Tags = [tag], Labels = TestLabels }, new Progress<string>(progress.Add)));

        Assert.Equal(ContainerRuntimeError.BuildFailed, error.Error);
        // Step 3 of more than 4: the engine counts a LABEL step for each label of the build.
        Assert.Matches(@"failed at 'Step 3/\d+ : RUN echo compiling the thing", error.Message);
        Assert.Contains("Output of the failing step:", error.Message, StringComparison.Ordinal);
        Assert.Contains("error: the thing is broken", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("step two is fine", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Removing intermediate container", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("RUN --mount=type=cache,target=/root/.cache echo hi", "RUN --mount")]
    [InlineData("COPY --link a.txt /a.txt", "COPY --link")]
    [InlineData("run --network=none echo hi", "RUN --network")]
    public async Task BuildImage_BuildKitOnlyFlag_FailsSayingBuildKitIsNotSupported(string instruction, string named)
    {
        File.WriteAllText(Path.Combine(_context, "Dockerfile"), $"FROM {Images.Base}\n{instruction}\n");
        var tag = $"berth-test/buildkit-{Guid.NewGuid():N}:v1";

        var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() =>
            Runtime.BuildImageAsync(new ImageBuildSpec { ContextDirectory = _context, Tags = [tag], Labels = TestLabels }));

        Assert.Equal(ContainerRuntimeError.BuildFailed, error.Error);
        Assert.Contains($"Dockerfile uses '{named}', which needs BuildKit; Berth builds with the engine's classic builder", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("# syntax=docker/dockerfile:1\nFROM x\n", "# syntax=docker/dockerfile:1")]
    [InlineData("# escape=`\n#syntax = docker/dockerfile:1.4\nFROM x\n", "#syntax = docker/dockerfile:1.4")]
    [InlineData("FROM x\n# syntax=docker/dockerfile:1\n", null)]
    public void SyntaxDirective_Dockerfile_FoundOnlyAtTheTop(string dockerfile, string? expected) =>
        Assert.Equal(expected, DockerfileFeatures.FindSyntaxDirective(dockerfile));
}
