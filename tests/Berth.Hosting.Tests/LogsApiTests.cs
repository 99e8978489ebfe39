using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Berth.Containers;
using Berth.Diagnostics;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting.Tests;

/// <summary><c>GET /_berth/admin/logs</c> over a fake engine: tags, filters, the follower cap and aborts.</summary>
public sealed partial class LogsApiTests : IAsyncLifetime
{
    private static readonly string ObjectA = new('a', 64);
    private static readonly string ObjectB = new('b', 64);
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly FakeContainerRuntime _runtime = new();
    private LogsTestHost _host = null!;

    public async Task InitializeAsync() => _host = await LogsTestHost.StartAsync(_runtime, "demo", FakeContainerRuntime.DefaultNodeId, o => o.MaxFollowers = 2);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private ContainerSummary AddWithLines(string className, string objectId, params string[] lines)
    {
        var container = _runtime.AddContainer("demo", className, objectId);
        _runtime.LogLines[container.Id] = [.. lines.Select((l, i) => new LogLine(LogStream.Stdout, l, T0.AddSeconds(i)))];
        return container;
    }

    [LoggerMessage(BerthEventIds.Containers + 17, LogLevel.Information, "{ClassName} {ObjectName} ready in {ElapsedMs:0} ms", EventName = "ContainerObjectReady")]
    private static partial void Ready(ILogger logger, string className, string objectName, double elapsedMs);

    private void LogReady(string className, string objectId) =>
        Ready(_host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Berth.Containers.Container"), className, objectId, 5);

    private async Task<JsonElement[]> GetArrayAsync(string query)
    {
        using var response = await _host.Client.GetAsync($"_berth/admin/logs?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray()];
    }

    [Fact]
    public async Task AppLogs_NotFollowing_ContainerLinesAndPlatformRecordsTagged()
    {
        var container = AddWithLines("Sandbox", ObjectA, "hello");
        LogReady("Sandbox", ObjectA);

        var records = await GetArrayAsync("follow=false");

        var line = Assert.Single(records, r => r.GetProperty("source").GetString() == "stdout");
        Assert.Equal(
            $$"""{"time":"2026-01-02T03:04:05.0000000Z","source":"stdout","app":"demo","class":"Sandbox","object":"{{ObjectA}}","object_name":null,"container":"{{container.Id[..Math.Min(12, container.Id.Length)]}}","level":null,"category":null,"event_id":null,"event":null,"message":"hello"}""",
            line.GetRawText());
        var ready = Assert.Single(records, r => r.GetProperty("event").GetString() == "ContainerObjectReady");
        Assert.Equal(("platform", "Sandbox", ObjectA, BerthEventIds.Containers + 17, "information"),
            (ready.GetProperty("source").GetString(), ready.GetProperty("class").GetString(), ready.GetProperty("object").GetString(),
             ready.GetProperty("event_id").GetInt32(), ready.GetProperty("level").GetString()));
    }

    [Fact]
    public async Task AppLogs_Filters_ClassObjectSourceLevel()
    {
        AddWithLines("Sandbox", ObjectA, "from a");
        AddWithLines("Sandbox", ObjectB, "from b");
        AddWithLines("Api", ObjectB, "from api");
        LogReady("Sandbox", ObjectA);
        LogReady("Api", ObjectB);

        static string[] Messages(JsonElement[] records) => [.. records.Select(r => $"{r.GetProperty("source").GetString()}:{r.GetProperty("class").GetString()}:{r.GetProperty("message").GetString()}")];

        Assert.Equal(["stdout:Api:from api", $"platform:Api:Api {ObjectB} ready in 5 ms"], Messages(await GetArrayAsync("follow=false&class=Api")));
        Assert.Equal(["stdout:Sandbox:from a", $"platform:Sandbox:Sandbox {ObjectA} ready in 5 ms"],
            Messages(await GetArrayAsync("follow=false&class=Sandbox&object=aaaa")));
        Assert.All(await GetArrayAsync("follow=false&source=container"), r => Assert.NotEqual("platform", r.GetProperty("source").GetString()));
        Assert.All(await GetArrayAsync("follow=false&source=platform"), r => Assert.Equal("platform", r.GetProperty("source").GetString()));
        Assert.Empty(await GetArrayAsync("follow=false&level=warning"));
        Assert.Single(await GetArrayAsync("follow=false&level=information&class=Sandbox&tail=1"));
    }

    [Theory]
    [InlineData("follow=maybe", "follow: 'maybe' is not allowed; allowed: true or false.")]
    [InlineData("source=stdout", "source: 'stdout' is not allowed; allowed: container, platform or all (the default).")]
    [InlineData("level=loud", "level: 'loud' is not allowed; allowed: trace, debug, information (or info), warning (or warn), error, critical.")]
    [InlineData("tail=-1", "tail: '-1' is not allowed; allowed: a number of records 0–10000.")]
    [InlineData("follow=false&format=sse", "format: 'sse' is not allowed; allowed: json (the default), ndjson, or sse with follow=true.")]
    public async Task AppLogs_BadQuery_BadRequestNamingTheParameter(string query, string expected)
    {
        using var response = await _host.Client.GetAsync($"_berth/admin/logs?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(expected, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task AppLogs_UnknownClass_NotFound()
    {
        using var response = await _host.Client.GetAsync("_berth/admin/logs?class=Nope");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("its classes are: Sandbox, Api", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppLogs_MoreFollowersThanTheCap_TooManyRequestsProblem()
    {
        using var first = await _host.Client.GetAsync("_berth/admin/logs?follow=true", HttpCompletionOption.ResponseHeadersRead);
        using var second = await _host.Client.GetAsync("_berth/admin/logs?follow=true", HttpCompletionOption.ResponseHeadersRead);

        using var third = await _host.Client.GetAsync("_berth/admin/logs?follow=true", HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("text/event-stream", first.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        var problem = await third.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Too many followers", problem.GetProperty("title").GetString());
        Assert.Contains("Berth:Logs:MaxFollowers", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContainerLogs_FollowsCountAgainstTheCap_OneMoreIsTooManyRequestsWithType()
    {
        AddWithLines("Sandbox", ObjectA, "a");
        using var plain = await _host.Client.GetAsync($"_berth/admin/containers/Sandbox/{ObjectA}/logs?follow=true", HttpCompletionOption.ResponseHeadersRead);
        using var withPlatform = await _host.Client.GetAsync($"_berth/admin/containers/Sandbox/{ObjectA}/logs?follow=true&platform=true", HttpCompletionOption.ResponseHeadersRead);

        using var third = await _host.Client.GetAsync($"_berth/admin/containers/Sandbox/{ObjectA}/logs?follow=true", HttpCompletionOption.ResponseHeadersRead);
        using var tail = await _host.Client.GetAsync("_berth/admin/logs?follow=true", HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withPlatform.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, tail.StatusCode);
        var problem = await third.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("https://www.rfc-editor.org/rfc/rfc6585#section-4", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task AppLogs_FollowerAborts_EngineStreamsClosedAndPlaceFreed()
    {
        AddWithLines("Sandbox", ObjectA, "a");
        AddWithLines("Api", ObjectB, "b");
        using (var abort = new CancellationTokenSource())
        {
            using var response = await _host.Client.GetAsync("_berth/admin/logs?follow=true", HttpCompletionOption.ResponseHeadersRead, abort.Token);
            using var sse = new LogsSse(await response.Content.ReadAsStreamAsync(abort.Token));
            await sse.NextMatchingAsync(r => r.GetProperty("message").GetString() == "b", TimeSpan.FromSeconds(30));
            Assert.Equal(2, _host.Exec.OpenStreams);
            await abort.CancelAsync();
        }

        await Eventually.ValueAsync(() => Task.FromResult(_host.Exec.OpenStreams), n => n == 0, "the engine streams to close", TimeSpan.FromSeconds(10));
        await Eventually.ValueAsync(() => Task.FromResult(_host.Services.GetRequiredService<LiveLogFollowers>().Count), n => n == 0, "the follower's place to free", TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData("_berth/admin/logs?follow=true")]
    [InlineData("_berth/admin/containers/Sandbox/{0}/logs?follow=true")]
    [InlineData("_berth/admin/containers/Sandbox/{0}/logs?follow=true&platform=true")]
    public async Task Follower_HostStopping_StreamEndsCleanlyAndPlaceFreed(string path)
    {
        // Kestrel's graceful stop waits for every request in flight: a follower that outlived ApplicationStopping held
        // every stop of a berth dev host for its whole shutdown timeout (new-user trial, a berth tail left open).
        AddWithLines("Sandbox", ObjectA, "a");
        using var response = await _host.Client.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, ObjectA), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[1];
        Assert.Equal(1, await body.ReadAsync(first));

        _host.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().StopApplication();

        // A clean end of the body (not a reset when the server gives up on it); bounded only so a regression fails instead of hanging.
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var rest = new MemoryStream();
        try
        {
            await body.CopyToAsync(rest, bound.Token);
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
            Assert.Fail($"GET {path}: the follower's stream did not end within 30 s of ApplicationStopping; it would hold the host's stop.");
        }

        // The app's live log (SSE) says why it ended, so berth tail can tell a stop from a dropped connection; a container's
        // log (text or NDJSON lines: berth containers logs -f, the dashboard) just ends, its lines unchanged.
        var text = System.Text.Encoding.UTF8.GetString(rest.ToArray());
        const string end = "event: end\ndata: {\"reason\":\"host_stopping\"}\n\n";
        if (path.StartsWith("_berth/admin/logs", StringComparison.Ordinal))
        {
            Assert.True(text.EndsWith(end, StringComparison.Ordinal), $"GET {path}: the stream did not end with the host_stopping event: {text}");
        }
        else
        {
            Assert.DoesNotContain("host_stopping", text, StringComparison.Ordinal);
        }

        await Eventually.ValueAsync(() => Task.FromResult(_host.Services.GetRequiredService<LiveLogFollowers>().Count), n => n == 0, "the follower's place to free", TimeSpan.FromSeconds(10));
        await Eventually.ValueAsync(() => Task.FromResult(_host.Exec.OpenStreams), n => n == 0, "the engine streams to close", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AppLogs_Following_NewContainerAndPlatformRecordArrive()
    {
        using var response = await _host.Client.GetAsync("_berth/admin/logs?follow=true&tail=0&class=Sandbox", HttpCompletionOption.ResponseHeadersRead);
        using var sse = new LogsSse(await response.Content.ReadAsStreamAsync());

        // The first heartbeat comes once the follower is subscribed.
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await sse.WaitForCommentAsync(timeout.Token);
        }

        var container = AddWithLines("Sandbox", ObjectA, "first line of a new container");
        _host.Services.GetRequiredService<ContainerStartEvents>().OnStateChanged(new ContainerStateChange(
            "demo", FakeContainerRuntime.DefaultNodeId, "Sandbox", ObjectA, "session-1", container.Id, ContainerObjectState.Stopped, ContainerObjectState.Running,
            null, null, null, T0, null, 0));
        LogReady("Sandbox", ObjectA);
        LogReady("Api", ObjectB);

        // The two come in either order; the Api record is filtered out.
        var first = await sse.NextMatchingAsync(_ => true, TimeSpan.FromSeconds(30));
        var second = await sse.NextMatchingAsync(_ => true, TimeSpan.FromSeconds(30));
        var records = new[] { first, second };
        var line = Assert.Single(records, r => r.GetProperty("source").GetString() == "stdout");
        Assert.Equal(("first line of a new container", "session-1"), (line.GetProperty("message").GetString(), line.GetProperty("object_name").GetString()));
        var ready = Assert.Single(records, r => r.GetProperty("source").GetString() == "platform");
        Assert.Equal(("Sandbox", ObjectA), (ready.GetProperty("class").GetString(), ready.GetProperty("object").GetString()));
    }

    [Fact]
    public async Task ContainerLogs_PlatformTrue_ObjectsPlatformRecordsBesideItsOutput()
    {
        AddWithLines("Sandbox", ObjectA, "out line");
        LogReady("Sandbox", ObjectA);
        LogReady("Sandbox", ObjectB);

        var text = await _host.Client.GetStringAsync($"_berth/admin/containers/Sandbox/{ObjectA}/logs?platform=true");

        Assert.Equal($"out line\n[platform information ContainerObjectReady] Sandbox {ObjectA} ready in 5 ms\n", text);
    }
}
