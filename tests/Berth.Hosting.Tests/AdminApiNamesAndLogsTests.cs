using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Berth.Hosting.Tests.Support;
using Berth.Runtime;

namespace Berth.Hosting.Tests;

/// <summary>The admin API addresses objects by name, and streams logs as NDJSON with time and stream, from a given time.</summary>
public sealed class AdminApiNamesAndLogsTests : IAsyncLifetime, IDisposable
{
    private static readonly string[] Cat = ["cat"];

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

    /// <summary>A container whose object was reached by name: it carries the name label.</summary>
    private ContainerSummary AddNamed(string className, string objectId, string name)
    {
        var plain = _host.Runtime.AddContainer(AdminTestHost.AppName, className, objectId);
        var named = plain with { Labels = new Dictionary<string, string>(plain.Labels) { [BerthLabels.ObjectName] = name } };
        _host.Runtime.Containers[_host.Runtime.Containers.IndexOf(plain)] = named;
        return named;
    }

    [Fact]
    public async Task ListContainers_AnyContainer_EveryFieldNameSnakeCase()
    {
        _host.Runtime.AddContainer(AdminTestHost.AppName, "Sandbox", new string('b', 64));

        using var response = await _client.GetAsync("_berth/admin/containers");
        var item = (await response.Content.ReadFromJsonAsync<JsonElement>())[0];

        // One naming in the whole object, as in the live logs, usage and dashboard JSON (docs/cli.md).
        Assert.Equal(
            ["id", "name", "class", "object", "object_name", "state", "image", "version", "created", "cpu_seconds", "memory_bytes", "started_at"],
            item.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task ListContainers_NamedObject_CarriesObjectName()
    {
        AddNamed("Sandbox", new string('a', 64), "session-1");
        _host.Runtime.AddContainer(AdminTestHost.AppName, "Sandbox", new string('b', 64));

        using var response = await _client.GetAsync("_berth/admin/containers");
        var items = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("session-1", items[0].GetProperty("object_name").GetString());
        Assert.Equal(JsonValueKind.Null, items[1].GetProperty("object_name").ValueKind);
    }

    [Fact]
    public async Task Logs_ByName_ResolvesTheNamedObject()
    {
        var container = AddNamed("Sandbox", new string('a', 64), "session-1");
        _host.Runtime.Logs[container.Id] = ["hello from session-1"];

        using var response = await _client.GetAsync("_berth/admin/containers/Sandbox/session-1/logs");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello from session-1\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Logs_NameThatIsAlsoAnIdPrefix_NameWins()
    {
        var named = AddNamed("Sandbox", new string('b', 64), "a");
        _host.Runtime.AddContainer(AdminTestHost.AppName, "Sandbox", new string('a', 64));
        _host.Runtime.Logs[named.Id] = ["named"];

        using var response = await _client.GetAsync("_berth/admin/containers/Sandbox/a/logs");

        Assert.Equal("named\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Logs_NdjsonSince_TimeStreamAndTextFromThatTime()
    {
        var container = _host.Runtime.AddContainer(AdminTestHost.AppName, "Sandbox", "obj-1");
        var t0 = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        _host.Runtime.LogLines[container.Id] =
        [
            new LogLine(LogStream.Stdout, "old", t0),
            new LogLine(LogStream.Stdout, "out line", t0.AddMinutes(5)),
            new LogLine(LogStream.Stderr, "err line\n", t0.AddMinutes(6)),
        ];

        using var response = await _client.GetAsync("_berth/admin/containers/Sandbox/obj-1/logs?format=ndjson&since=2026-01-02T03:05:00Z");

        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(new DateTimeOffset(2026, 1, 2, 3, 5, 0, TimeSpan.Zero), Assert.Single(_host.Runtime.LogRequests).Since);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
        [
            """{"time":"2026-01-02T03:09:05+00:00","stream":"stdout","text":"out line"}""",
            """{"time":"2026-01-02T03:10:05+00:00","stream":"stderr","text":"err line"}""",
        ], lines);
    }

    [Theory]
    [InlineData("since=yesterday", "since: 'yesterday' is not allowed; allowed: an RFC 3339 time such as 2026-01-02T03:04:05Z.")]
    [InlineData("format=xml", "format: 'xml' is not allowed; allowed: text (the default) or ndjson.")]
    public async Task Logs_BadQuery_BadRequestNamingTheParameter(string query, string expected)
    {
        _host.Runtime.AddContainer(AdminTestHost.AppName, "Sandbox", "obj-1");

        using var response = await _client.GetAsync($"_berth/admin/containers/Sandbox/obj-1/logs?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(expected, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Exec_StdinOverLimit_BadRequest()
    {
        _host.Runtime.AddContainer(AdminTestHost.AppName, "Api", "obj-1");
        var stdin = Convert.ToBase64String(new byte[AdminOptions.MaxExecStdinBytes + 1]);

        using var response = await _client.PostAsJsonAsync("_berth/admin/containers/Api/obj-1/exec", new { command = Cat, stdin });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_host.Runtime.Execs);
    }
}
