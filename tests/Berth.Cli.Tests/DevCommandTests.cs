using System.Net;
using System.Net.Sockets;
using Berth.Hosting.Tests.Support;

namespace Berth.Cli.Tests;

public sealed class DevCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();

    public void Dispose()
    {
        _dir.Dispose();
        _out.Dispose();
        _err.Dispose();
    }

    [Fact]
    public async Task Dev_ProjectDirectoryMissing_NotFound()
    {
        var missing = Path.Combine(_dir.Path, "nope");

        var exitCode = await BerthCli.RunAsync(["dev", "--project", missing], _out, _err);

        Assert.Equal(ExitCodes.NotFound, exitCode);
        Assert.Equal($"berth: --project '{missing}' does not exist ({missing}).", _err.ToString().Trim());
    }

    [Fact]
    public async Task Dev_DirectoryWithoutProject_NotFound()
    {
        var exitCode = await BerthCli.RunAsync(["dev", "--project", _dir.Path], _out, _err);

        Assert.Equal(ExitCodes.NotFound, exitCode);
        Assert.Contains($"No .csproj in {_dir.Path}.", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dev_DirectoryWithTwoProjects_AsksWhichOne()
    {
        _dir.Write("A.csproj", "<Project />");
        _dir.Write("B.csproj", "<Project />");

        var exitCode = await BerthCli.RunAsync(["dev", "--project", _dir.Path], _out, _err);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("Several projects in", _err.ToString(), StringComparison.Ordinal);
        Assert.Contains("A.csproj, B.csproj. Pass --project <file>.", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dev_PortInUse_UnavailableNamingThePort()
    {
        _dir.Write("App.csproj", "<Project />");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var exitCode = await BerthCli.RunAsync(["dev", "--project", _dir.Path, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], _out, _err);

        Assert.Equal(ExitCodes.HostUnreachable, exitCode);
        Assert.Contains($"Port {port} on 127.0.0.1 is already in use.", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dev_PortOutOfRange_UsageError()
    {
        var exitCode = await BerthCli.RunAsync(["dev", "--port", "70000"], _out, _err);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("--port 70000 is not allowed; allowed: 1–65535.", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void DevStartInfo_Defaults_ReleaseBuildAndNoRequestLogging()
    {
        var start = DevCommand.StartInfo("/app/App.csproj", "/app", "http://127.0.0.1:8787", "/app/data", Settings());

        Assert.Equal(["run", "--no-launch-profile", "--configuration", "Release", "--project", "/app/App.csproj", "--", "--urls", "http://127.0.0.1:8787"], start.ArgumentList);
        Assert.DoesNotContain(start.Environment.Keys, key => key.StartsWith("Logging__", StringComparison.Ordinal));
    }

    [Fact]
    public void DevStartInfo_DebugAndLogRequests_DebugBuildAndForwarderLinesOn()
    {
        var start = DevCommand.StartInfo("/app/App.csproj", "/app", "http://127.0.0.1:8787", "/app/data", Settings() with { Configuration = "Debug", LogRequests = true });

        Assert.Equal("Debug", start.ArgumentList[start.ArgumentList.IndexOf("--configuration") + 1]);
        Assert.Equal("Information", start.Environment["Logging__LogLevel__Yarp"]);
        Assert.Equal("Information", start.Environment["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Release;Debug")]
    [InlineData("../x")]
    public async Task Dev_ConfigurationNotAName_UsageErrorNamingTheOption(string configuration)
    {
        var exitCode = await BerthCli.RunAsync(["dev", "--project", _dir.Path, "--configuration", configuration], _out, _err);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains($"--configuration '{configuration}' is not allowed", _err.ToString(), StringComparison.Ordinal);
    }

    private static DevCommand.DevSettings Settings() =>
        new("/app", DevCommand.DefaultPort, null, TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(120), Watch: false);
}
