using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Berth.Runtime;
using Berth.Samples.Sandbox;
using Berth.Testing;

namespace Berth.Hosting.EndToEnd.Tests;

/// <summary>The per-session sandbox sample: its class, routes and busybox image, under a unique app name.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class SandboxSampleTests(EndToEndFixture fixture) : IAsyncLifetime
{
    private readonly AppDirectory _app = new();
    private BerthTestHost _host = null!;

    public async Task InitializeAsync()
    {
        var container = Path.Combine(RepositoryRoot.Find(), "samples", "Berth.Samples.Sandbox", "container");
        _app.WriteConfig($$"""
            {
              "name": "{{_app.AppName}}",
              "containers": [ { "class_name": "Sandbox", "image": {{JsonSerializer.Serialize(Path.Combine(container, "Dockerfile"))}}, "max_instances": 3 } ]
            }
            """);
        _host = await _app.StartHostAsync(berth => berth.AddContainer<Sandbox>(), app => app.MapSandbox());
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await EndToEndFixture.RemoveAppImagesAsync(fixture.Runtime, _app.AppName);
        _app.Delete();
    }

    private async Task<ExecResponse> ExecAsync(string session, string command)
    {
        var response = await _host.Client.PostAsJsonAsync($"/sandbox/{session}/exec", new { command });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ExecResponse>())!;
    }

    [Fact]
    public async Task Files_StoredInOneSession_ReadBackThereAndNotInAnother()
    {
        using var body = new StringContent("hello from alice");
        var stored = await _host.Client.PostAsync("/sandbox/alice/cgi-bin/files?name=notes.txt", body);
        Assert.Equal(HttpStatusCode.Created, stored.StatusCode);

        Assert.Equal("hello from alice", await _host.Client.GetStringAsync("/sandbox/alice/cgi-bin/files?name=notes.txt"));
        var other = await _host.Client.GetAsync("/sandbox/bob/cgi-bin/files?name=notes.txt");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);

        var containers = await _host.ContainersAsync();
        Assert.Equal(2, containers.Count);
        Assert.All(containers, c => Assert.Equal("1", c.Labels[BerthLabels.Test]));
    }

    [Fact]
    public async Task Exec_Command_RunsInTheSessionsContainerWithItsExitCode()
    {
        using var body = new StringContent("42");
        (await _host.Client.PostAsync("/sandbox/carol/cgi-bin/files?name=answer", body)).EnsureSuccessStatusCode();

        var result = await ExecAsync("carol", "cat /tmp/files/answer; echo; echo $BERTH_CLASS; exit 3");

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("42\nSandbox\n", result.Stdout);
        Assert.Equal("carol", result.Session);
    }

    [Fact]
    public async Task Exec_SleepingSession_StartsTheContainerFirst()
    {
        var result = await ExecAsync("dave", "cat /proc/1/cmdline | tr '\\0' ' '");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("/start.sh", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_NoCommand_Returns400NamingTheField()
    {
        var response = await _host.Client.PostAsJsonAsync("/sandbox/erin/exec", new { stdin = "x" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("command:", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await _host.ContainersAsync());
    }

    [Fact]
    public async Task Exec_Internet_IsUnreachable()
    {
        var result = await ExecAsync("frank", "nc -w 2 192.0.2.1 80 </dev/null");

        Assert.NotEqual(0, result.ExitCode);
    }

    [Fact]
    public async Task Route_BadSessionId_Returns404WithoutAContainer()
    {
        var response = await _host.Client.GetAsync("/sandbox/not%20a%20session/cgi-bin/info");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(await _host.ContainersAsync());
    }
}
