using Berth.Containers;
using Berth.Gateway;
using Berth.Runtime;
using Berth.Testing;

namespace Berth.Hosting.EndToEnd.Tests;

/// <summary>A static site served by busybox httpd; its image is built from a Dockerfile in the app directory.</summary>
public sealed class Site : Container
{
    public Site() => DefaultPort = 8080;
}

/// <summary>
/// <c>image</c> pointing at a Dockerfile: the first start builds it, an unchanged restart finds it by its content
/// tag without building, a changed context builds a new tag, and the container runs the new content.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class ImageBuildTests(EndToEndFixture fixture) : IAsyncLifetime
{
    private const string BuilderCategory = "Berth.Hosting.AppImageBuilder";

    private readonly AppDirectory _app = new();

    public Task InitializeAsync()
    {
        _app.WriteConfig($$"""
            // written by ImageBuildTests
            {
              "name": "{{_app.AppName}}",
              "containers": [ { "class_name": "Site", "image": "./site/Dockerfile" } ]
            }
            """);
        _app.WriteFile("site/Dockerfile", $$"""
            FROM {{TestImages.BaseImage}}
            COPY www /www
            ENTRYPOINT ["/bin/sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"]
            """);
        _app.WriteFile("site/www/index.html", "v1\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await EndToEndFixture.RemoveAppImagesAsync(fixture.Runtime, _app.AppName);
        _app.Delete();
    }

    private async Task<(LogCapture Logs, string Body)> RunOnceAsync()
    {
        var logs = new LogCapture();
        await using var host = await _app.StartHostAsync(
            berth => berth.AddContainer<Site>(),
            app => app.MapContainer<Site>("/site/{**path}", _ => "one", stripPrefix: true),
            logs);
        var body = await host.Client.GetStringAsync("/site/index.html");
        return (logs, body.Trim());
    }

    private async Task<IReadOnlyList<ImageInfo>> AppImagesAsync() =>
        await fixture.Runtime.ListImagesAsync(new Dictionary<string, string> { [BerthLabels.App] = _app.AppName });

    [Fact]
    public async Task AppStart_DockerfileUnchangedThenChanged_BuildsOnceHitsCacheThenRebuildsAndDropsTheOldImage()
    {
        // First start: nothing on the engine, so the Dockerfile is built.
        var (first, body) = await RunOnceAsync();
        Assert.Equal("v1", body);
        Assert.Contains(first.MessagesFrom(BuilderCategory), m => m.StartsWith("Building image for Site", StringComparison.Ordinal));
        var built = Assert.Single(await AppImagesAsync());
        var tag = Assert.Single(built.Tags, t => t.StartsWith(BerthNames.ImageRepository(_app.AppName, "Site") + ":", StringComparison.Ordinal));
        Assert.Equal(BerthNames.SplitImageReference(tag).Tag, built.Labels[BerthLabels.Version]);
        Assert.Equal("Site", built.Labels[BerthLabels.Class]);

        // Restart without a change: the same tag is found, nothing is built.
        var (second, bodyAgain) = await RunOnceAsync();
        Assert.Equal("v1", bodyAgain);
        Assert.DoesNotContain(second.MessagesFrom(BuilderCategory), m => m.StartsWith("Building", StringComparison.Ordinal));
        Assert.Contains(second.MessagesFrom(BuilderCategory), m => m.Contains("up to date", StringComparison.Ordinal) && m.Contains(tag, StringComparison.Ordinal));
        var cached = Assert.Single(await AppImagesAsync());
        Assert.Equal(built.Id, cached.Id);

        // A file of the context changes: a new tag is built and the container serves the new content.
        _app.WriteFile("site/www/index.html", "v2\n");
        var (third, changedBody) = await RunOnceAsync();
        Assert.Equal("v2", changedBody);
        Assert.Contains(third.MessagesFrom(BuilderCategory), m => m.StartsWith("Building image for Site", StringComparison.Ordinal));
        // The replaced build runs nowhere any more, so it is removed rather than left to pile up.
        var rebuilt = Assert.Single(await AppImagesAsync());
        Assert.NotEqual(built.Id, rebuilt.Id);
        Assert.DoesNotContain(tag, rebuilt.Tags);
        Assert.NotEqual(built.Labels[BerthLabels.Version], rebuilt.Labels[BerthLabels.Version]);
    }
}
