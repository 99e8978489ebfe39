using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Berth.Docker;
using Berth.Templates.Tests.Support;
using Xunit.Abstractions;

namespace Berth.Templates.Tests;

/// <summary>
/// `dotnet new berth` from the packed template, as the README's quick start has it: the app references the
/// packages from the local feed and runs under the packed `berth` tool.
/// </summary>
[Collection(PackedFeedCollection.Name)]
public sealed class TemplateTests(PackedFeed feed, ITestOutputHelper log)
{
    /// <summary>Bound on `berth dev` building the app, building the image, starting the container and answering (4.5 min seen with five other builds running on 2 cores).</summary>
    private static readonly TimeSpan FirstResponseTimeout = TimeSpan.FromMinutes(7);

    /// <summary>Bound on `berth dev` stopping after SIGINT (its own grace is 15 s).</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task NewBerth_Output_GatewayContainerClassDockerfileAndConfigWithoutLaunchProfile()
    {
        using var cancel = new CancellationTokenSource(PackedFeed.QuickTimeout * 2);
        var (app, appName) = await NewAppAsync("Shape.Check", cancel.Token);

        // The project references the packages (at this pack's version), not the repository's projects.
        var project = await File.ReadAllTextAsync(Path.Combine(app, "Shape.Check.csproj"), cancel.Token);
        Assert.Contains($"<PackageReference Include=\"Berth.Hosting\" Version=\"{feed.Version}\" />", project, StringComparison.Ordinal);
        Assert.DoesNotContain("ProjectReference", project, StringComparison.Ordinal);

        var program = await File.ReadAllTextAsync(Path.Combine(app, "Program.cs"), cancel.Token);
        Assert.Contains("builder.AddBerth(berth => berth.UseConfigFile().AddContainer<MyContainer>());", program, StringComparison.Ordinal);
        Assert.Contains("app.MapContainer<MyContainer>(", program, StringComparison.Ordinal);
        Assert.Contains("app.MapBerthAdmin();", program, StringComparison.Ordinal);
        Assert.Contains("app.MapBerthDashboard();", program, StringComparison.Ordinal);
        Assert.Contains("app.MapBerthMetrics();", program, StringComparison.Ordinal);
        Assert.Contains("using Shape.Check;", program, StringComparison.Ordinal);
        Assert.Contains("namespace Shape.Check;", await File.ReadAllTextAsync(Path.Combine(app, "MyContainer.cs"), cancel.Token), StringComparison.Ordinal);

        var dockerfile = await File.ReadAllLinesAsync(Path.Combine(app, "container", "Dockerfile"), cancel.Token);
        Assert.Equal("FROM berth/base:1", dockerfile.First(line => !line.StartsWith('#')));

        // The app name is the project name made valid for berth.jsonc: lowercase letters, digits and '-'.
        Assert.Equal("shape-check", appName);

        // `berth dev` owns the address: no launch profile may choose another one.
        Assert.False(Directory.Exists(Path.Combine(app, "Properties")), "the template must not ship Properties/launchSettings.json");
        Assert.Empty(Directory.GetFiles(app, "launchSettings.json", SearchOption.AllDirectories));

        // .berth/dev.json names the app and where its admin token is, and data/ holds the token and the objects' storage: neither belongs in git.
        var ignored = await File.ReadAllLinesAsync(Path.Combine(app, ".gitignore"), cancel.Token);
        Assert.Contains(".berth/", ignored);
        Assert.Contains("data/", ignored);
    }

    [Fact]
    public async Task NewBerth_UnderPackedBerthDev_ContainerAnswers200()
    {
        using var cancel = new CancellationTokenSource(PackedFeed.QuickTimeout * 3 + FirstResponseTimeout + StopTimeout);
        var started = Stopwatch.StartNew();
        var name = "Smoke" + Guid.NewGuid().ToString("N")[..6];
        var (app, appName) = await NewAppAsync(name, cancel.Token);

        // The quick start's steps: a nuget.config naming the local feed, and the tool from the same feed.
        await Cli.RunAsync(Cli.Start("dotnet", app, "new", "nugetconfig", "--debug:custom-hive", feed.Hive), PackedFeed.QuickTimeout, cancel.Token);
        await Cli.RunAsync(
            Cli.Start("dotnet", app, "nuget", "add", "source", feed.Feed, "--name", "berth-local", "--configfile", "nuget.config"),
            PackedFeed.QuickTimeout, cancel.Token);
        var tools = feed.NewDirectory("tools");
        await Cli.RunAsync(
            Cli.Start("dotnet", app, "tool", "install", "Berth.Cli", "--version", feed.Version, "--tool-path", tools, "--add-source", feed.Feed),
            PackedFeed.QuickTimeout, cancel.Token);

        var port = FreePort();
        var dev = Cli.Start(Path.Combine(tools, "berth"), app, "dev", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // What this test creates carries the test labels (so a killed run's leftovers are found and removed)
        // and silo ports of its own (another app on this machine may hold Orleans' defaults).
        foreach (var (key, value) in TestResources.Labels())
        {
            dev.Environment[$"Berth__Containers__ExtraLabels__{key}"] = value;
        }

        dev.Environment["Berth__Cluster__SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        dev.Environment["Berth__Cluster__GatewayPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);

        using var runtime = new DockerContainerRuntime(new DockerRuntimeOptions());
        try
        {
            using var berth = new RunningProcess(dev);
            try
            {
                var body = await FirstResponseAsync(berth, $"http://127.0.0.1:{port}/u/alice/", cancel.Token);
                log.WriteLine($"dotnet new berth → first 200 from the container: {started.Elapsed.TotalSeconds:0.0} s");
                Assert.Contains("Hello from a Berth container.", body, StringComparison.Ordinal);

                // The template maps the Prometheus endpoint, as the demo does; the container just served counts in it.
                using (var http = new HttpClient())
                {
                    using var metrics = await http.GetAsync($"http://127.0.0.1:{port}/_berth/metrics", cancel.Token);
                    Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
                    Assert.StartsWith("text/plain", metrics.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
                    var text = await metrics.Content.ReadAsStringAsync(cancel.Token);
                    Assert.Contains("berth_container_starts_total", text, StringComparison.Ordinal);
                    Assert.Contains("berth_class=\"MyContainer\"", text, StringComparison.Ordinal);
                }

                // The package's host settings reach the app: no thread-pool spinning (bench/README.md, "Warm data plane").
                var runtimeConfig = Directory.GetFiles(Path.Combine(app, "bin"), name + ".runtimeconfig.json", SearchOption.AllDirectories);
                Assert.NotEmpty(runtimeConfig);
                using (var config = JsonDocument.Parse(await File.ReadAllTextAsync(runtimeConfig[0], cancel.Token)))
                {
                    var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
                    Assert.Equal(0, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
                }

                var containers = await runtime.ListAsync(new Dictionary<string, string> { ["berth.app"] = appName }, cancel.Token);
                var container = Assert.Single(containers);
                Assert.Equal("1", container.Labels["berth.test"]);
                Assert.Equal("MyContainer", container.Labels["berth.class"]);
            }
            finally
            {
                await StopAsync(berth, cancel.Token);
                log.WriteLine(berth.Output);
            }
        }
        finally
        {
            await RemoveAppResourcesAsync(runtime, appName);
        }
    }

    /// <summary>`dotnet new berth -n <paramref name="name"/>` into a fresh directory; returns it and the app name in its berth.jsonc.</summary>
    private async Task<(string Directory, string AppName)> NewAppAsync(string name, CancellationToken cancellationToken)
    {
        var app = Path.Combine(feed.NewDirectory("apps"), name);
        await Cli.RunAsync(
            Cli.Start("dotnet", Path.GetDirectoryName(app)!, "new", "berth", "-n", name, "-o", app, "--debug:custom-hive", feed.Hive),
            PackedFeed.QuickTimeout, cancellationToken);
        var config = await File.ReadAllTextAsync(Path.Combine(app, "berth.jsonc"), cancellationToken);
        using var json = JsonDocument.Parse(config, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return (app, json.RootElement.GetProperty("name").GetString()!);
    }

    private static async Task<string> FirstResponseAsync(RunningProcess berth, string url, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var deadline = TimeProvider.System.GetUtcNow() + FirstResponseTimeout;
        var last = "no answer yet";
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            if (berth.Process.HasExited)
            {
                Assert.Fail($"berth dev exited with code {berth.Process.ExitCode} before {url} answered 200:\n{berth.Output}");
            }

            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return body;
                }

                last = $"{(int)response.StatusCode} {body}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System, cancellationToken);
        }

        Assert.Fail($"{url} did not answer 200 within {FirstResponseTimeout.TotalSeconds:0} s (last: {last}); berth dev's output:\n{berth.Output}");
        return "";
    }

    /// <summary>Ctrl+C for `berth dev` (SIGINT), then the whole tree is killed if it is still running after <see cref="StopTimeout"/>.</summary>
    private static async Task StopAsync(RunningProcess berth, CancellationToken cancellationToken)
    {
        if (berth.Process.HasExited)
        {
            return;
        }

        await Cli.RunAsync(Cli.Start("kill", "/", "-INT", berth.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), PackedFeed.QuickTimeout, cancellationToken);
        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        grace.CancelAfter(StopTimeout);
        try
        {
            await berth.Process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            berth.Kill();
        }
    }

    /// <summary>Removes the app's containers, networks and images (all named by its unique app name).</summary>
    private static async Task RemoveAppResourcesAsync(DockerContainerRuntime runtime, string appName)
    {
        var app = new Dictionary<string, string> { ["berth.app"] = appName };
        foreach (var container in await runtime.ListAsync(app))
        {
            await runtime.RemoveAsync(container.Id);
        }

        foreach (var network in await runtime.ListNetworksAsync(app))
        {
            await runtime.RemoveNetworkAsync(network.Id);
        }

        foreach (var image in await runtime.ListImagesAsync(app))
        {
            await runtime.RemoveImageAsync(image.Id, force: true);
        }
    }

    private static int FreePort() => Berth.Testing.BerthTestHost.FreePort();
}
