using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Text.Json;
using Berth.Runtime;
using Berth.Hosting.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Hosting.Tests;

public sealed class AdminApiTests : IAsyncLifetime, IDisposable
{
    private static readonly string[] FailNow = ["fail", "now"];

    private static readonly string[] Hang = ["hang"];

    private AdminTestHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await AdminTestHost.StartAsync();
        _client = new HttpClient { BaseAddress = _host.Address };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await File.ReadAllTextAsync(_host.TokenFile));
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public void Dispose() => _client.Dispose();

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public void Start_NoConfiguredToken_WritesGeneratedTokenOwnerOnly()
    {
        Assert.Matches("^[0-9a-f]{64}$", File.ReadAllText(_host.TokenFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_host.TokenFile));
    }

    [Fact]
    public async Task ListContainers_NoToken_Unauthorized()
    {
        using var anonymous = new HttpClient { BaseAddress = _host.Address };

        using var response = await anonymous.GetAsync("_berth/admin/containers");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Contains("Missing or wrong admin token", await ProblemDetailAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListContainers_WrongToken_Unauthorized()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "_berth/admin/containers");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-token");

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ListContainers_RightToken_ListsOnlyThisAppsContainers()
    {
        var sandbox = _host.Runtime.AddContainer("demo", "Sandbox", "session-1");
        _host.Runtime.AddContainer("other-app", "Sandbox", "session-2");

        var list = await _client.GetFromJsonAsync<JsonElement>("_berth/admin/containers");

        var item = Assert.Single(list.EnumerateArray());
        Assert.Equal(sandbox.Id, item.GetProperty("id").GetString());
        Assert.Equal("Sandbox", item.GetProperty("class").GetString());
        Assert.Equal("session-1", item.GetProperty("object").GetString());
        Assert.Equal("running", item.GetProperty("state").GetString());
        Assert.Equal(sandbox.Image, item.GetProperty("image").GetString());
        Assert.Equal(sandbox.CreatedAt, item.GetProperty("created").GetDateTimeOffset());
    }

    [Fact]
    public async Task ListAndResolve_ContainerOfAnotherNodeOfTheApp_NotSeenNotTouched()
    {
        // A second host of the same app on this engine owns its containers: this node neither lists nor stops them.
        var own = _host.Runtime.AddContainer("demo", "Sandbox", "mine-1");
        var foreign = _host.Runtime.AddContainer("demo", "Sandbox", "theirs-1", nodeId: "node-2");

        var list = await _client.GetFromJsonAsync<JsonElement>("_berth/admin/containers");
        using var logs = await _client.GetAsync("_berth/admin/containers/Sandbox/theirs-1/logs");
        using var stop = await _client.PostAsync("_berth/admin/containers/Sandbox/theirs-1/stop", null);

        Assert.Equal(own.Id, Assert.Single(list.EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.NotFound, logs.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, stop.StatusCode);
        Assert.Empty(_host.Runtime.Stops);
        Assert.Contains(_host.Runtime.Containers, c => c.Id == foreign.Id);
    }

    [Fact]
    public async Task Logs_ObjectIdPrefix_StreamsTailAsText()
    {
        var container = _host.Runtime.AddContainer("demo", "Sandbox", "a1b2c3d4");
        _host.Runtime.Logs[container.Id] = ["one", "two", "three"];

        using var response = await _client.GetAsync("_berth/admin/containers/Sandbox/a1b2/logs?tail=2");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("two\nthree\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Logs_AmbiguousPrefix_ConflictListingMatches()
    {
        _host.Runtime.AddContainer("demo", "Sandbox", "abc-1");
        _host.Runtime.AddContainer("demo", "Sandbox", "abc-2");

        using var response = await _client.GetAsync("_berth/admin/containers/Sandbox/abc/logs");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("Object ID prefix 'abc' is ambiguous for class 'Sandbox': it matches abc-1, abc-2. Give more characters.",
            await ProblemDetailAsync(response));
    }

    [Fact]
    public async Task Logs_UnknownObject_NotFoundNamingIt()
    {
        using var response = await _client.GetAsync("_berth/admin/containers/Sandbox/nope/logs");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("No container of class 'Sandbox' with object name or ID 'nope' in app 'demo'. 'berth containers list' shows the containers that exist; an object has one only while it runs (Berth removes a container once it stops: 'berth tail -o NAME' has a stopped one's output).", await ProblemDetailAsync(response));
    }

    [Fact]
    public async Task Logs_UnknownClass_NotFoundListingClasses()
    {
        using var response = await _client.GetAsync("_berth/admin/containers/Sandbx/x/logs");

        Assert.Equal(
            "No container of class 'Sandbx' with object name or ID 'x' in app 'demo'. The app has no container class 'Sandbx'; its classes are: Sandbox, Api.",
            await ProblemDetailAsync(response));
    }

    [Fact]
    public async Task Exec_Command_StreamsNdjsonFramesThenExitCode()
    {
        var container = _host.Runtime.AddContainer("demo", "Api", "obj-1");

        using var response = await _client.PostAsJsonAsync("_berth/admin/containers/Api/obj-1/exec", new { command = FailNow });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, lines.Count);
        Assert.Equal("stdout", lines[0].GetProperty("stream").GetString());
        Assert.Equal("ran: fail now\n"u8.ToArray(), lines[0].GetProperty("data").GetBytesFromBase64());
        Assert.Equal("stderr", lines[1].GetProperty("stream").GetString());
        Assert.Equal("failed on purpose\n"u8.ToArray(), lines[1].GetProperty("data").GetBytesFromBase64());
        Assert.Equal(3, lines[2].GetProperty("exitCode").GetInt64());
        var exec = Assert.Single(_host.Runtime.Execs);
        Assert.Equal(container.Id, exec.ContainerId);
        Assert.Equal(FailNow, exec.Command);
    }

    [Fact]
    public async Task Exec_CommandStillRunningWhenTheHostStops_EndsWithExecCancelledInsteadOfHoldingTheStop()
    {
        _host.Runtime.AddContainer("demo", "Api", "obj-1");
        using var request = new HttpRequestMessage(HttpMethod.Post, "_berth/admin/containers/Api/obj-1/exec") { Content = JsonContent.Create(new { command = Hang }) };
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Eventually.ValueAsync(() => Task.FromResult(_host.Runtime.Execs.Count), n => n == 1, "the command to start", TimeSpan.FromSeconds(10));

        _host.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().StopApplication();

        // Bounded only so a regression fails instead of hanging: before, the answer (and the host's stop) waited for the command.
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(bound.Token);
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
            Assert.Fail("The exec's answer did not end within 30 s of ApplicationStopping; it would hold the host's stop.");
            throw;
        }

        var last = JsonDocument.Parse(body.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.Equal("exec_cancelled", last.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Exec_StdinNotBase64_BadRequestNamingTheField()
    {
        _host.Runtime.AddContainer("demo", "Api", "obj-1");

        using var response = await _client.PostAsJsonAsync("_berth/admin/containers/Api/obj-1/exec", new { command = FailNow, stdin = "not base64!" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("stdin: not base64", await ProblemDetailAsync(response), StringComparison.Ordinal);
        Assert.Empty(_host.Runtime.Execs);
    }

    [Fact]
    public async Task Exec_EmptyCommand_BadRequest()
    {
        _host.Runtime.AddContainer("demo", "Api", "obj-1");

        using var response = await _client.PostAsJsonAsync("_berth/admin/containers/Api/obj-1/exec", new { command = Array.Empty<string>() });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("command: required", await ProblemDetailAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_WithGrace_SigtermWithThatGracePeriod()
    {
        var container = _host.Runtime.AddContainer("demo", "Api", "obj-1");

        using var response = await _client.PostAsync("_berth/admin/containers/Api/obj-1/stop?grace=30", null);

        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(143, result.GetProperty("exitCode").GetInt32());
        Assert.Equal((container.Id, new StopOptions(ContainerSignal.SIGTERM, TimeSpan.FromSeconds(30))), Assert.Single(_host.Runtime.Stops));
    }

    [Fact]
    public async Task Stop_SeveralContainersOfOneObject_StopsTheRunningOne()
    {
        _host.Runtime.AddContainer("demo", "Api", "obj-1", EngineContainerState.Exited, created: DateTimeOffset.UnixEpoch.AddDays(2));
        var running = _host.Runtime.AddContainer("demo", "Api", "obj-1", EngineContainerState.Running, created: DateTimeOffset.UnixEpoch.AddDays(1));

        using var response = await _client.PostAsync("_berth/admin/containers/Api/obj/stop", null);

        response.EnsureSuccessStatusCode();
        // Without ?grace the stop waits the one stop grace period, ContainerOptions.StopGracePeriod.
        Assert.Equal((running.Id, new StopOptions(ContainerSignal.SIGTERM, new Berth.Containers.ContainerOptions().StopGracePeriod)), Assert.Single(_host.Runtime.Stops));
    }

    [Fact]
    public async Task Start_ConfiguredToken_AcceptsItAndWritesNoFile()
    {
        await using var host = await AdminTestHost.StartAsync(o => o.Token = "configured-token-0123456789");
        using var client = new HttpClient { BaseAddress = host.Address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "configured-token-0123456789");

        using var response = await client.GetAsync("_berth/admin/containers");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(File.Exists(host.TokenFile));
    }

    [Fact]
    public async Task Start_ShortConfiguredToken_FailsValidation()
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => AdminTestHost.StartAsync(o => o.Token = "short"));

        Assert.Contains("Berth:Admin:Token is too short (5 characters); allowed: at least 16", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MapBerthAdmin_WithoutAddBerthAdmin_ThrowsSayingWhatToCall()
    {
        var app = WebApplication.CreateSlimBuilder().Build();

        var ex = Assert.Throws<InvalidOperationException>(() => app.MapBerthAdmin());

        Assert.Contains("AddBerthAdmin()", ex.Message, StringComparison.Ordinal);
    }

    private static async Task<string?> ProblemDetailAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        return problem.GetProperty("detail").GetString();
    }
}
