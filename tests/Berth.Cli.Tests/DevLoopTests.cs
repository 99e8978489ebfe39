using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Berth.Hosting.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>berth dev</c> owns the app's address (a launch profile naming another port does not win), says loudly when the app
/// does not open it in time, and watches the right files.
/// </summary>
public sealed class DevLoopTests : IDisposable
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

    private void WriteWebProject(int launchProfilePort)
    {
        _dir.Write("Web.csproj", """
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
            </Project>
            """);
        _dir.Write("Program.cs", """
            var builder = WebApplication.CreateBuilder(args);
            var app = builder.Build();
            app.MapGet("/", () => "hello from dev");
            app.Run();
            """);
        // What `dotnet new web` writes: a profile that would put the app on another port.
        _dir.Write("Properties/launchSettings.json", $$"""
            {
              "profiles": {
                "http": {
                  "commandName": "Project",
                  "applicationUrl": "http://localhost:{{launchProfilePort}}",
                  "environmentVariables": { "ASPNETCORE_ENVIRONMENT": "Development" }
                }
              }
            }
            """);
    }

    [Fact]
    public async Task Dev_LaunchProfileNamesAnotherPort_AppAnswersOnTheDevPort()
    {
        var profilePort = FreePort();
        var port = FreePort();
        WriteWebProject(profilePort);
        using var stop = new CancellationTokenSource();
        // Read while berth dev writes: its writer is synchronized (it locks on itself), and so is the read below.
        var output = TextWriter.Synchronized(_out);
        var run = BerthCli.RunAsync(
            ["dev", "--project", _dir.Path, "--port", Text(port), "--no-watch", "--start-timeout", "600", "--stop-timeout", "30"], output, _err, stop.Token);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string? body = null;
        var waited = Stopwatch.StartNew();
        while (body is null && !run.IsCompleted && waited.Elapsed < TimeSpan.FromMinutes(10))
        {
            await Task.Delay(500);
            try
            {
                body = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/"));
            }
            catch (HttpRequestException)
            {
                // Still building.
            }
        }

        // The app can answer the test's poll before berth dev's own readiness poll sees the port: wait for its line.
        var listening = $"berth dev: listening on http://127.0.0.1:{port}";
        if (body is not null)
        {
            await Eventually.ValueAsync(() => Task.FromResult(Read(output)), o => o.Contains(listening, StringComparison.Ordinal) || run.IsCompleted, "berth dev's listening line");
        }

        await stop.CancelAsync();
        var exitCode = await run;

        Assert.True(body == "hello from dev", $"no answer on the dev port. stdout: {_out}\nstderr: {_err}");
        Assert.Contains(listening, _out.ToString(), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Interrupted, exitCode);
        Assert.False(await IsListeningAsync(profilePort));
    }

    [Fact]
    public async Task Dev_AppDoesNotOpenThePortInTime_FailsLoudlyNamingTheAddress()
    {
        _dir.Write("Quiet.csproj", """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
            </Project>
            """);
        _dir.Write("Program.cs", "System.Console.WriteLine(\"not listening anywhere\"); System.Threading.Thread.Sleep(-1);\n");
        var port = FreePort();

        var exitCode = await BerthCli.RunAsync(
            ["dev", "--project", _dir.Path, "--port", Text(port), "--start-timeout", "3", "--stop-timeout", "20"], _out, _err);

        Assert.Equal(ExitCodes.HostUnreachable, exitCode);
        Assert.Contains(
            $"berth dev: ERROR: the app did not open http://127.0.0.1:{port} within 3 s (--start-timeout).", _err.ToString(), StringComparison.Ordinal);
        Assert.Contains("It must listen on the address berth dev gives it (ASPNETCORE_URLS / --urls).", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dev_AppRefusesItsConfig_ExitsWithItsCodeAndShowsTheErrorOnce()
    {
        _dir.Write("Bad.csproj", """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
            </Project>
            """);
        // What a Berth host prints for a bad berth.jsonc, then EX_CONFIG.
        _dir.Write("Program.cs", """
            System.Console.Error.WriteLine("Invalid Berth config 'berth.jsonc' (1 problem):\n  containers[0].instance_type: 'huge' is not allowed");
            return 78;
            """);

        var exitCode = await BerthCli.RunAsync(
            ["dev", "--project", _dir.Path, "--port", Text(FreePort()), "--start-timeout", "60", "--stop-timeout", "20"], _out, _err);

        Assert.Equal(78, exitCode);
        var error = _err.ToString();
        Assert.Equal(1, error.Split("Invalid Berth config").Length - 1);
        Assert.Contains("berth dev: ERROR: the app exited with code 78", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DevAppProcess_Output_ForwardedAndLastLinesKept()
    {
        var start = new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", "for i in $(seq 1 20); do echo line $i; done; sleep 1; echo oops >&2" } };
        // stdout and stderr are two pipes read apart: the pause makes "oops" the last line in time, as an app's final
        // error is; without it a loaded machine delivered stdout lines after it and pushed it out of the window.
        using var app = DevAppProcess.Start(start, _out, _err);

        await app.WaitForExitAsync(CancellationToken.None);

        Assert.Contains("line 20", _out.ToString(), StringComparison.Ordinal);
        Assert.Equal("oops", _err.ToString().Trim());
        Assert.Equal(DevAppProcess.KeptLines, app.LastLines.Count);
        Assert.Contains("oops", app.LastLines);
        Assert.DoesNotContain("line 1", app.LastLines);
    }

    [Theory]
    [InlineData("Program.cs", true)]
    [InlineData("Pages/Index.cshtml", true)]
    [InlineData("Web.csproj", true)]
    [InlineData("berth.jsonc", true)]
    [InlineData("appsettings.Development.json", true)]
    [InlineData("Directory.Build.props", true)]
    [InlineData("obj/Debug/net10.0/Web.AssemblyInfo.cs", false)]
    [InlineData("bin/Debug/net10.0/Web.dll", false)]
    [InlineData(".git/index", false)]
    [InlineData("data/objects/Api/x.db", false)]
    [InlineData("api/server.py", false)]
    [InlineData("api/Dockerfile", false)]
    [InlineData("README.md", false)]
    public void IsAppSource_Path_RestartsOnlyForAppSources(string relative, bool expected)
    {
        var root = Path.GetFullPath(_dir.Path);
        var path = Path.Combine(root, relative.Replace('/', Path.DirectorySeparatorChar));

        Assert.Equal(expected, DevSourceWatcher.IsAppSource(root, path, Path.Combine(root, "data")));
    }

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static int FreePort() => Berth.Testing.BerthTestHost.FreePort();

    private static async Task<bool> IsListeningAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private string Read(TextWriter synchronized)
    {
        lock (synchronized)
        {
            return _out.ToString();
        }
    }
}
