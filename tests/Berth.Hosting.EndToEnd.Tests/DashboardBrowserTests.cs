using Berth.Gateway;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;

namespace Berth.Hosting.EndToEnd.Tests;

/// <summary>
/// The web dashboard in headless Chromium against a real host (dashboard/test/dashboard.browser.mjs, driven by playwright-core with
/// Debian's chromium): login, a container appearing, its log, its sleep, usage growing, destroy. Screenshots go to docs/.
/// Needs node, the dashboard's node_modules and chromium: scripts/dashboard.sh installs them (scripts/test.sh calls it).
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class DashboardBrowserTests(EndToEndFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(4);
    private readonly AppDirectory _app = new();
    private readonly string _token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    private BerthTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _app.WriteConfig($$"""
            { "name": "{{_app.AppName}}", "containers": [ { "class_name": "EchoApp", "image": "{{fixture.Images.App}}", "sleep_after": "3s" } ] }
            """);
        _host = await BerthTestHost.StartAsync(
            berth => berth.UseConfigFile().AddContainer<EchoApp>(),
            app =>
            {
                app.MapContainer<EchoApp>("/echo/{name}/{**path}", ctx => (string)ctx.Request.RouteValues["name"]!, stripPrefix: true);
                app.MapBerthAdmin();
                app.MapBerthDashboard();
            },
            appName: _app.AppName,
            dataDirectory: _app.Path,
            configureHost: builder => builder.Configuration["Berth:Admin:Token"] = _token);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _app.Delete();
    }

    [Fact]
    public async Task Dashboard_InHeadlessChromium_LogsInShowsInstancesLogsSleepUsageAndDestroy()
    {
        var root = RepositoryRoot.Find();
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.Combine(root, "dashboard"),
        };
        start.ArgumentList.Add(Path.Combine("test", "dashboard.browser.mjs"));
        start.Environment["BERTH_URL"] = _host.BaseAddress.ToString();
        start.Environment["BERTH_TOKEN"] = _token;
        start.Environment["BERTH_CLASS"] = "EchoApp";
        start.Environment["BERTH_START_PATH"] = "/echo/dash/hello";
        start.Environment["BERTH_OBJECT_NAME"] = "dash";
        start.Environment["BERTH_SCREENSHOT_DIR"] = Path.Combine(root, "docs");
        start.Environment["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ScriptTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }

        var output = new StringBuilder()
            .Append("exit ").Append(process.HasExited ? process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "timeout")
            .Append('\n').Append(await stdout).Append('\n').Append(await stderr).ToString();
        Assert.True(process.HasExited && process.ExitCode == 0, output);
        Assert.Contains("all steps passed", output, StringComparison.Ordinal);
    }
}
