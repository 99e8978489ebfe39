using System.Formats.Tar;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Berth.Containers;
using Berth.Docker;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting.Tests;

/// <summary>
/// The deploy, versions and rollback endpoints against the real engine and the node's registry (127.0.0.1:5000, started by
/// scripts/bootstrap.sh). No rollout coordinator is registered here: a deploy sets the class's traffic directly.
/// </summary>
public sealed class DeployApiTests : IAsyncLifetime, IDisposable
{
    private const string Token = "deploy-test-token-0123456789abcdef";
    private const string Registry = "127.0.0.1:5000";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly TempDirectory _dir = new();
    // Owned by the host (its container disposes it).
    private readonly DockerContainerRuntime _engine = new(new DockerRuntimeOptions());
    private readonly string _app = "tdeploy" + Guid.NewGuid().ToString("N")[..10];
    private WebApplication _host = null!;
    private HttpClient _client = null!;
    private TestImageSet _images = null!;

    public async Task InitializeAsync()
    {
        try
        {
            using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            (await probe.GetAsync(new Uri($"http://{Registry}/v2/"))).EnsureSuccessStatusCode();
        }
        catch (HttpRequestException ex)
        {
            throw new InvalidOperationException($"No image registry on {Registry} ({ex.Message}): scripts/bootstrap.sh installs and starts docker-registry there.", ex);
        }

        _images = await TestImages.EnsureBuiltAsync(_engine);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = _dir.Path });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IContainerRuntime>(_engine);
        builder.Services.AddSingleton<IImageDistribution>(_engine);
        builder.Services.AddBerthConfig(BerthConfigFile.Parse(
            $$"""{ "name": "{{_app}}", "containers": [ { "class_name": "Api", "image": "{{_images.Base}}" } ] }""", _dir.Path));
        builder.Services.AddBerthAdmin(o => o.Token = Token);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IClassVersionStore>(new SqliteClassVersionStore(Path.Combine(_dir.Path, "data", "versions.db"), TimeProvider.System));
        builder.Services.AddOptions<RegistryOptions>();
        builder.Services.AddSingleton<AppImageBuilder>();
        builder.Services.AddSingleton<ClassDeployer>();
        _host = builder.Build();
        _host.MapBerthAdmin();
        await _host.StartAsync();
        var address = _host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _client = new HttpClient { BaseAddress = new Uri(address + "/_berth/admin/"), Timeout = TimeSpan.FromMinutes(3) };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    public async Task DisposeAsync()
    {
        // Before the host stops: disposing it disposes the engine driver it was given.
        foreach (var image in await _engine.ListImagesAsync(BerthNames.ForApp(_app)))
        {
            await _engine.RemoveImageAsync(image.Id, force: true);
        }

        await _host.StopAsync();
        await _host.DisposeAsync();
    }

    public void Dispose()
    {
        _client?.Dispose();
        _dir.Dispose();
    }

    private static StreamContent Tar(string dockerfile, string file = "v1")
    {
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "Dockerfile") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(dockerfile)) });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "version.txt") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(file)) });
        }

        tar.Position = 0;
        var content = new StreamContent(tar);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
        return content;
    }

    private async Task<JsonElement> VersionsAsync() =>
        await (await _client.GetAsync(new Uri("classes/Api/versions", UriKind.Relative))).Content.ReadFromJsonAsync<JsonElement>(Json);

    [Fact]
    public async Task Deploy_BuildContext_BuildsPushesRecordsAndAnswers202WithTheVersion()
    {
        using var response = await _client.PostAsync(new Uri("classes/Api/deploy", UriKind.Relative),
            Tar($"FROM {_images.Base}\nCOPY version.txt /version.txt\n"));

        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Json);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body.ToString());
        var version = body.GetProperty("version");
        Assert.Equal(1, version.GetProperty("number").GetInt32());
        Assert.Equal("deploy", version.GetProperty("trigger").GetString());
        var image = version.GetProperty("image").GetString()!;
        Assert.StartsWith($"{Registry}/{BerthNames.ImageRepository(_app, "Api")}@sha256:", image, StringComparison.Ordinal);
        Assert.Equal(version.GetProperty("digest").GetString(), image[(image.IndexOf('@', StringComparison.Ordinal) + 1)..]);
        Assert.NotNull(await _engine.InspectImageAsync(image));
        var versions = await VersionsAsync();
        Assert.Equal(1, versions.GetProperty("current").GetInt32());
        Assert.Equal(1, versions.GetProperty("versions").GetArrayLength());
    }

    [Fact]
    public async Task Deploy_FailingBuild_Answers422WithTheStepOutputAndRecordsNothing()
    {
        using (var first = await _client.PostAsync(new Uri("classes/Api/deploy", UriKind.Relative), Tar($"FROM {_images.Base}\nCOPY version.txt /version.txt\n")))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }

        using var response = await _client.PostAsync(new Uri("classes/Api/deploy", UriKind.Relative),
            Tar($"FROM {_images.Base}\nRUN echo the-step-that-fails && exit 9\n", "v2"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Json);
        Assert.Equal("Build failed", problem.GetProperty("title").GetString());
        Assert.Contains("the-step-that-fails", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var versions = await VersionsAsync();
        Assert.Equal(1, versions.GetProperty("current").GetInt32());
        Assert.Equal(1, versions.GetProperty("versions").GetArrayLength());
    }

    [Fact]
    public async Task DeployImageWithPercentThenRollback_SplitsThenReturnsToVersionOne()
    {
        using (var first = await _client.PostAsJsonAsync(new Uri("classes/Api/deploy", UriKind.Relative), new { image = _images.Base }))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }

        using (var second = await _client.PostAsJsonAsync(new Uri("classes/Api/deploy?percent=10", UriKind.Relative), new { image = _images.App }))
        {
            Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        }

        var split = await VersionsAsync();
        Assert.Equal((1, 2, 10), (split.GetProperty("current").GetInt32(), split.GetProperty("candidate").GetInt32(), split.GetProperty("candidatePercent").GetInt32()));

        using (var promote = await _client.PostAsJsonAsync(new Uri("classes/Api/rollback", UriKind.Relative), new { version = 2 }))
        {
            Assert.Equal(HttpStatusCode.Accepted, promote.StatusCode);
        }

        Assert.Equal(2, (await VersionsAsync()).GetProperty("current").GetInt32());
        using var back = await _client.PostAsync(new Uri("classes/Api/rollback", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Accepted, back.StatusCode);
        var after = await VersionsAsync();
        Assert.Equal(1, after.GetProperty("current").GetInt32());
        Assert.Equal(JsonValueKind.Null, after.GetProperty("candidate").ValueKind);
        Assert.Equal(2, after.GetProperty("versions").GetArrayLength());
    }

    [Theory]
    [InlineData("classes/Nope/deploy", "application/json", "{\"image\":\"x:1\"}", HttpStatusCode.NotFound)]
    [InlineData("classes/Api/deploy?percent=0", "application/json", "{\"image\":\"x:1\"}", HttpStatusCode.BadRequest)]
    [InlineData("classes/Api/deploy", "application/json", "{\"image\":", HttpStatusCode.BadRequest)]
    [InlineData("classes/Api/deploy", "text/plain", "hello", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("classes/Api/deploy", "application/json", "{\"image\":\"127.0.0.1:5000/berth-test-never-pushed:1\"}", HttpStatusCode.NotFound)]
    [InlineData("classes/Api/rollback", "application/json", "{\"version\":42}", HttpStatusCode.Conflict)]
    public async Task Deploy_BadInput_AnswersAJsonProblem(string path, string contentType, string body, HttpStatusCode expected)
    {
        using var content = new StringContent(body, Encoding.UTF8, contentType);

        using var response = await _client.PostAsync(new Uri(path, UriKind.Relative), content);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty((await VersionsAsync()).GetProperty("versions").EnumerateArray());
    }
}
