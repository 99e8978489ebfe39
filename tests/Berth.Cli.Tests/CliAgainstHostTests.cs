using System.Net;
using System.Net.Sockets;
using Berth.Runtime;
using Berth.Hosting.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Cli.Tests;

/// <summary>The CLI in-process against a real loopback host with MapBerthAdmin and an in-memory container runtime.</summary>
public sealed class CliAgainstHostTests : IAsyncLifetime, IDisposable
{
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();
    private AdminTestHost _host = null!;

    public async Task InitializeAsync() => _host = await AdminTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public void Dispose()
    {
        _out.Dispose();
        _err.Dispose();
    }

    private Task<int> RunAsync(params string[] args) => RunAsync(args, CancellationToken.None);

    private Task<int> RunAsync(string[] args, CancellationToken cancellationToken) =>
        BerthCli.RunAsync(["--host", _host.Address.ToString(), "--data-dir", _host.DataDirectory, .. args], _out, _err, cancellationToken);

    [Fact]
    public async Task ContainersList_TokenFromDataDir_PrintsTable()
    {
        var container = _host.Runtime.AddContainer("demo", "Sandbox", "session-1");
        var now = new FakeTimeProvider(new DateTimeOffset(2025, 1, 2, 3, 16, 10, TimeSpan.Zero));
        var environment = new CliEnvironment(_ => null, Environment.CurrentDirectory, now, null, null);

        var exitCode = await BerthCli.RunAsync(
            ["--host", _host.Address.ToString(), "--data-dir", _host.DataDirectory, "containers", "list"], _out, _err, null, null, environment);

        Assert.Equal(ExitCodes.Success, exitCode);
        var rows = _out.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)
            .Select(line => System.Text.RegularExpressions.Regex.Split(line, " {2,}")).ToList();
        Assert.Equal(["CLASS", "NAME", "STATE", "IMAGE", "VERSION", "UPTIME", "OBJECT ID", "CONTAINER"], rows[0]);
        Assert.Equal(["Sandbox", "-", "running", "berth-demo-sandbox:abc123", "abc123", "12m05s", "session-1", container.Id[..12]], rows[1]);
        Assert.Equal(2, rows.Count);
        Assert.Empty(_err.ToString());
    }

    [Fact]
    public async Task ContainersList_NoContainers_SaysSo()
    {
        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "list"));
        Assert.Equal("No containers.", _out.ToString().Trim());
    }

    [Fact]
    public async Task ContainersList_WrongToken_UnauthorizedWithHint()
    {
        var exitCode = await RunAsync("containers", "list", "--token", "wrong-token");

        Assert.Equal(ExitCodes.Unauthorized, exitCode);
        Assert.Contains($"The host at {_host.Address.ToString().TrimEnd('/')} refused the admin token (from --token).", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContainersList_TokenFromEnvironment_Used()
    {
        Environment.SetEnvironmentVariable(BerthCli.TokenEnvironmentVariable, "wrong-from-env");
        try
        {
            Assert.Equal(ExitCodes.Unauthorized, await RunAsync("containers", "list"));
            Assert.Contains("(from $BERTH_ADMIN_TOKEN)", _err.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(BerthCli.TokenEnvironmentVariable, null);
        }
    }

    [Fact]
    public async Task ContainersList_NoTokenAnywhere_UnauthorizedNamingTheFile()
    {
        var missing = Path.Combine(Path.GetTempPath(), "berth-no-such-dir");

        var exitCode = await BerthCli.RunAsync(["containers", "list", "--host", _host.Address.ToString(), "--data-dir", missing], _out, _err);

        Assert.Equal(ExitCodes.Unauthorized, exitCode);
        Assert.Contains($"No admin token: {Path.Combine(missing, "admin-token")} does not exist.", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContainersList_HostNotListening_UnreachableWithHint()
    {
        var closedPort = ClosedLoopbackPort();

        var exitCode = await BerthCli.RunAsync(
            ["containers", "list", "--host", $"http://127.0.0.1:{closedPort}", "--token", "whatever-token-123"], _out, _err);

        Assert.Equal(ExitCodes.HostUnreachable, exitCode);
        Assert.StartsWith($"berth: Cannot reach the Berth host at http://127.0.0.1:{closedPort} (from --host):", _err.ToString(), StringComparison.Ordinal);
        Assert.Contains("Is the app running (berth dev)?", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContainersLogs_Tail_PrintsLastLines()
    {
        var container = _host.Runtime.AddContainer("demo", "Sandbox", "session-1");
        _host.Runtime.Logs[container.Id] = ["starting", "listening on 8080", "GET /"];

        var exitCode = await RunAsync("containers", "logs", "Sandbox", "sess", "--tail", "2");

        Assert.Equal(ExitCodes.Success, exitCode);
        Assert.Equal(["out | listening on 8080", "out | GET /"], _out.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task ContainersLogs_FollowThenCtrlC_StreamsThenExitsInterrupted()
    {
        var container = _host.Runtime.AddContainer("demo", "Sandbox", "session-1");
        _host.Runtime.Logs[container.Id] = ["first"];
        using var ctrlC = new CancellationTokenSource();
        var output = new SignallingWriter("first");

        var run = BerthCli.RunAsync(
            ["containers", "logs", "Sandbox", "session-1", "--follow", "--host", _host.Address.ToString(), "--data-dir", _host.DataDirectory],
            output, _err, ctrlC.Token);
        await output.Seen.WaitAsync(TimeSpan.FromSeconds(10));
        await ctrlC.CancelAsync();

        Assert.Equal(ExitCodes.Interrupted, await run.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ContainersLogs_UnknownObject_NotFoundNamingIt()
    {
        var exitCode = await RunAsync("containers", "logs", "Sandbox", "ghost");

        Assert.Equal(ExitCodes.NotFound, exitCode);
        Assert.StartsWith("berth: No container of class 'Sandbox' with object name or ID 'ghost' in app 'demo'.", _err.ToString().Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContainersLogs_AmbiguousPrefix_AmbiguousListingMatches()
    {
        _host.Runtime.AddContainer("demo", "Sandbox", "s-1");
        _host.Runtime.AddContainer("demo", "Sandbox", "s-2");

        var exitCode = await RunAsync("containers", "logs", "Sandbox", "s-");

        Assert.Equal(ExitCodes.Ambiguous, exitCode);
        Assert.Contains("it matches s-1, s-2", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContainersExec_CommandAfterDoubleDash_PrintsOutputAndReturnsItsExitCode()
    {
        _host.Runtime.AddContainer("demo", "Api", "obj-1");

        var exitCode = await RunAsync("containers", "exec", "Api", "obj-1", "--", "fail", "-v", "--now");

        Assert.Equal(3, exitCode);
        Assert.Equal("ran: fail -v --now\n", _out.ToString());
        Assert.Equal("failed on purpose\n", _err.ToString());
    }

    [Fact]
    public async Task ContainersExec_ObjectNotRunning_ExitsNotFound()
    {
        var exitCode = await RunAsync("containers", "exec", "Api", "nope", "--", "true");

        Assert.Equal(ExitCodes.NotFound, exitCode);
        Assert.Contains("No container of class 'Api' with object name or ID 'nope'", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContainersStop_Grace_StopsAndReports()
    {
        var container = _host.Runtime.AddContainer("demo", "Api", "obj-1");

        var exitCode = await RunAsync("containers", "stop", "Api", "obj-1", "--grace", "5");

        Assert.Equal(ExitCodes.Success, exitCode);
        Assert.Equal(new StopOptions(ContainerSignal.SIGTERM, TimeSpan.FromSeconds(5)), Assert.Single(_host.Runtime.Stops).Options);
        Assert.Equal($"Stopped Api/obj-1 (container {container.Id[..12]}), exit code 143.", _out.ToString().Trim());
    }

    [Fact]
    public async Task ContainersLogs_MissingArguments_UsageError()
    {
        var exitCode = await RunAsync("containers", "logs", "Sandbox");

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("Missing the object after class 'Sandbox': give 'Class/name'", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContainersList_HostNotHttp_UsageError()
    {
        var exitCode = await BerthCli.RunAsync(["containers", "list", "--host", "ftp://x", "--token", "t"], _out, _err);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("--host 'ftp://x' is not an http(s) address", _err.ToString(), StringComparison.Ordinal);
    }

    private static int ClosedLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Completes <see cref="Seen"/> once a line containing the expected text has been written.</summary>
    private sealed class SignallingWriter(string expected) : StringWriter
    {
        private readonly TaskCompletionSource _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Seen => _seen.Task;

        public override Task WriteLineAsync(string? value)
        {
            if (value?.Contains(expected, StringComparison.Ordinal) == true)
            {
                _seen.TrySetResult();
            }

            return base.WriteLineAsync(value);
        }
    }
}
