using Berth.Containers;
using Berth.Gateway;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Hosting.EndToEnd.Tests;

/// <summary>The test app (<c>berth-test/app</c>) as a container class, one container per name.</summary>
public sealed class EchoApp : Container
{
    public EchoApp() => DefaultPort = TestImages.AppPort;
}

/// <summary>The real <c>berth containers ...</c> process against a running host with <c>MapBerthAdmin()</c>.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class CliTests(EndToEndFixture fixture) : IAsyncLifetime
{
    private readonly AppDirectory _app = new();
    private BerthTestHost _host = null!;
    private string _objectId = null!;

    public async Task InitializeAsync()
    {
        _app.WriteConfig($$"""
            { "name": "{{_app.AppName}}", "containers": [ { "class_name": "EchoApp", "image": "{{fixture.Images.App}}" } ] }
            """);
        _host = await _app.StartHostAsync(
            berth => berth.AddContainer<EchoApp>(),
            app =>
            {
                app.MapContainer<EchoApp>("/echo/{name}/{**path}", ctx => (string)ctx.Request.RouteValues["name"]!, stripPrefix: true);
                app.MapBerthAdmin();
            });

        // A request, so a container runs.
        var response = await _host.Client.GetAsync("/echo/cli/env");
        response.EnsureSuccessStatusCode();
        _objectId = _host.Services.GetRequiredService<ContainerNamespace<EchoApp>>().IdFromName("cli").ToString();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _app.Delete();
    }

    // Global options first: everything after `exec ... --` belongs to the command.
    private Task<CliResult> BerthAsync(params string[] args) =>
        CliProcess.RunAsync(["--host", _host.BaseAddress.ToString(), "--data-dir", _app.Path, .. args]);

    [Fact]
    public async Task ContainersList_RunningContainer_ShowsClassObjectAndState()
    {
        var result = await BerthAsync("containers", "list");

        Assert.True(result.ExitCode == 0, result.ToString());
        // The table shows IDs as 12 characters, as docker ps does; --json has them in full.
        var row = Assert.Single(result.Stdout.Split('\n'), l => l.Contains(_objectId[..12], StringComparison.Ordinal));
        Assert.StartsWith("EchoApp", row, StringComparison.Ordinal);
        Assert.Contains("running", row, StringComparison.Ordinal);
        // The class's configured image, or (with the node's registry) its recorded version's image by digest.
        Assert.True(row.Contains(fixture.Images.App, StringComparison.Ordinal) || row.Contains("@sha256:", StringComparison.Ordinal) || row.Contains("127.0.0.1:5000/", StringComparison.Ordinal), row);
    }

    [Fact]
    public async Task ContainersExec_IdPrefix_PrintsOutputAndExitsZero()
    {
        var result = await BerthAsync("containers", "exec", "EchoApp", _objectId[..8], "--", "echo", "hi");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hi\n", result.Stdout);
    }

    [Fact]
    public async Task ContainersExec_ClassSlashName_FindsTheObjectTheGatewayReachedByName()
    {
        // The gateway reached the object with GetByName("cli"): the admin API turns the name into the same ID.
        var result = await BerthAsync("containers", "exec", "EchoApp/cli", "--", "echo", "hi");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hi\n", result.Stdout);
    }

    [Fact]
    public async Task ContainersExec_FailingCommand_ExitsWithItsCode()
    {
        var result = await BerthAsync("containers", "exec", "EchoApp", _objectId, "--", "sh", "-c", "echo oops >&2; exit 3");

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("oops", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContainersLogs_RunningContainer_ShowsItsOutput()
    {
        var result = await BerthAsync("containers", "logs", "EchoApp", _objectId);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("listening on 8080", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContainersStop_RunningContainer_StopsItAndTheObjectRecordsIt()
    {
        var result = await BerthAsync("containers", "stop", "EchoApp", _objectId[..12]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Stopped EchoApp/{_objectId}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("exit code 0", result.Stdout, StringComparison.Ordinal);

        // The object notices the exit, records it and removes the container.
        var stub = _host.Services.GetRequiredService<ContainerNamespace<EchoApp>>().GetByName("cli");
        await Eventually.ValueAsync(() => stub.Object.GetStateAsync(), s => s.State == ContainerObjectState.Stopped, "the object to record the stop");
        await Eventually.ValueAsync(() => _host.ContainersAsync(_objectId), c => c.Count == 0, "the stopped container to be removed");
        var listed = await BerthAsync("containers", "list");
        Assert.DoesNotContain(_objectId[..12], listed.Stdout, StringComparison.Ordinal);

        // The next request starts a fresh one.
        var again = await _host.Client.GetAsync("/echo/cli/env");
        again.EnsureSuccessStatusCode();
        Assert.Single(await _host.ContainersAsync(_objectId), c => c.State == EngineContainerState.Running);
    }

    [Fact]
    public async Task ContainersStop_GraceForAClassThisHostRuns_UsageErrorSayingWhy()
    {
        var result = await BerthAsync("containers", "stop", "EchoApp", _objectId, "--grace", "5");

        Assert.Equal(64, result.ExitCode); // ExitCodes.Usage
        Assert.Contains("stop grace period", result.Stderr, StringComparison.Ordinal);
        Assert.Single(await _host.ContainersAsync(_objectId), c => c.State == EngineContainerState.Running);
    }

    [Fact]
    public async Task ContainersDestroy_RunningContainer_RemovesItThroughTheObject()
    {
        var result = await BerthAsync("containers", "destroy", "EchoApp", _objectId[..12]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Destroyed EchoApp/{_objectId}", result.Stdout, StringComparison.Ordinal);
        var stub = _host.Services.GetRequiredService<ContainerNamespace<EchoApp>>().GetByName("cli");
        var state = await stub.Object.GetStateAsync();
        Assert.Equal("requested", state.Reason);
        Assert.Empty(await _host.ContainersAsync(_objectId));
    }

    [Fact]
    public async Task ContainersExec_LargeOutput_StreamsAllOfIt()
    {
        var result = await BerthAsync("containers", "exec", "EchoApp", _objectId, "--", "sh", "-c", "yes 0123456789 | head -c 3000000; echo tail >&2");

        Assert.True(result.ExitCode == 0, result.ToString()[..Math.Min(500, result.ToString().Length)]);
        Assert.Equal(3_000_000, result.Stdout.Length);
        Assert.Equal("tail\n", result.Stderr);
    }

    [Fact]
    public async Task ContainersList_WrongToken_ExitsUnauthorized()
    {
        var result = await BerthAsync("containers", "list", "--token", "definitely-not-the-token");

        Assert.Equal(77, result.ExitCode); // ExitCodes.Unauthorized
        Assert.Contains("token", result.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ContainersExec_UnknownObject_ExitsNotFound()
    {
        var result = await BerthAsync("containers", "exec", "EchoApp", "ffffffffffff", "--", "echo", "hi");

        Assert.Equal(66, result.ExitCode); // ExitCodes.NotFound
    }
}
