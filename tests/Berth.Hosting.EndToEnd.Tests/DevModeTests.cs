using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Berth.Gateway;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting.EndToEnd.Tests;

/// <summary>
/// The host under <c>berth dev</c> (<c>BERTH_DEV=1</c>) rebuilds a class's image when its build context changes and
/// replaces the running container, so the next request is served by the new image; and a host whose silo port is taken
/// fails at start with one line naming the port and the setting.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class DevModeTests(EndToEndFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private readonly AppDirectory _app = new();

    public Task InitializeAsync()
    {
        _app.WriteConfig($$"""
            {
              "name": "{{_app.AppName}}",
              "containers": [ { "class_name": "Site", "image": "./site/Dockerfile" } ]
            }
            """);
        _app.WriteFile("site/Dockerfile", $$"""
            FROM {{TestImages.BaseImage}}
            COPY www /www
            ENTRYPOINT ["/bin/sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"]
            """);
        _app.WriteFile("site/www/index.html", "v1\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await EndToEndFixture.RemoveAppImagesAsync(fixture.Runtime, _app.AppName);
        _app.Delete();
    }

    [Fact]
    public async Task DevHost_ContainerContextChanged_NextRequestServedByTheNewImage()
    {
        await using var host = await BerthTestHost.StartAsync(
            berth => berth.UseConfigFile().AddContainer<Site>(),
            app => app.MapContainer<Site>("/site/{**path}", _ => "one", stripPrefix: true),
            appName: _app.AppName,
            dataDirectory: _app.Path,
            configureHost: builder => builder.Configuration["BERTH_DEV"] = "1");
        Assert.Equal("v1", (await host.Client.GetStringAsync("/site/index.html")).Trim());
        var first = Assert.Single(await host.ContainersAsync(), c => c.State == EngineContainerState.Running);

        _app.WriteFile("site/www/index.html", "v2\n");

        using var deadline = new CancellationTokenSource(Bound);
        var body = "";
        while (body != "v2")
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), deadline.Token);
            using var response = await host.Client.GetAsync("/site/index.html", deadline.Token);
            body = response.IsSuccessStatusCode ? (await response.Content.ReadAsStringAsync(deadline.Token)).Trim() : body;
        }

        var now = Assert.Single(await host.ContainersAsync(), c => c.State == EngineContainerState.Running);
        Assert.NotEqual(first.Id, now.Id);
        Assert.NotEqual(BerthNames.Label(first.Labels, BerthLabels.Version), BerthNames.Label(now.Labels, BerthLabels.Version));
    }

    [Fact]
    public async Task DevHost_Stopped_StopsTheContainersItStarted()
    {
        var host = await BerthTestHost.StartAsync(
            berth => berth.UseConfigFile().AddContainer<Site>(),
            app => app.MapContainer<Site>("/site/{**path}", _ => "one", stripPrefix: true),
            appName: _app.AppName,
            dataDirectory: _app.Path,
            configureHost: builder => builder.Configuration["BERTH_DEV"] = "1");
        try
        {
            Assert.Equal("v1", (await host.Client.GetStringAsync("/site/index.html")).Trim());

            // A production host leaves its containers running here, for the next start to adopt.
            await host.StopLeavingContainersAsync();

            // Stopped through its object (which may then remove it): none of the app's containers runs any more.
            var containers = await fixture.Runtime.ListAsync(BerthNames.ForApp(_app.AppName));
            Assert.DoesNotContain(containers, c => c.State == EngineContainerState.Running);
        }
        finally
        {
            await BerthTestHost.RemoveAppResourcesAsync(fixture.Runtime, _app.AppName);
        }
    }

    [Fact]
    public async Task SecondHost_SameSiloPort_FailsAtStartNamingThePortAndTheSetting()
    {
        var port = FreePort();
        void SamePort(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder) =>
            builder.Configuration["Berth:Cluster:SiloPort"] = port.ToString(CultureInfo.InvariantCulture);
        await using var first = await BerthTestHost.StartAsync(_ => { }, _ => { }, configureHost: SamePort);

        var error = await Assert.ThrowsAsync<BerthStartupException>(() => BerthTestHost.StartAsync(_ => { }, _ => { }, configureHost: SamePort));

        Assert.Equal(
            $"Berth cannot listen on its Orleans silo port 127.0.0.1:{port} (it is in use; is another Berth app or host running on this machine?). "
            + "Set Berth:Cluster:SiloPort (environment variable Berth__Cluster__SiloPort) to a free port.",
            error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DevHost_ForwardedRequests_NoLogLinePerRequestUnlessRequestLoggingIsOn(bool logRequests)
    {
        var recorder = new RecordingLoggerProvider();
        await using (var host = await BerthTestHost.StartAsync(
            berth => berth.UseConfigFile().AddContainer<Site>(),
            app => app.MapContainer<Site>("/site/{**path}", _ => "quiet", stripPrefix: true),
            appName: _app.AppName,
            dataDirectory: _app.Path,
            configureHost: builder =>
            {
                builder.Configuration["BERTH_DEV"] = "1";
                // What `dotnet new web` puts in appsettings.Development.json, which berth dev's Development environment reads.
                builder.Configuration["Logging:LogLevel:Default"] = "Information";
                builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning";
                if (logRequests)
                {
                    // What `berth dev --log-requests` sets for the app (DevCommand.StartInfo).
                    builder.Configuration["Logging:LogLevel:Yarp"] = "Information";
                    builder.Configuration["Logging:LogLevel:Berth.Gateway.Requests"] = "Information";
                    builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information";
                }

                builder.Logging.SetMinimumLevel(LogLevel.Information).AddProvider(recorder);
            }))
        {
            Assert.Equal("v1", (await host.Client.GetStringAsync("/site/index.html")).Trim());
            recorder.Clear();
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal("v1", (await host.Client.GetStringAsync("/site/index.html")).Trim());
            }
        }

        bool PerRequest(string category) =>
            category.StartsWith("Yarp.", StringComparison.Ordinal) || category == "Microsoft.AspNetCore.Hosting.Diagnostics" || category == "Berth.Gateway.Requests";
        var perRequest = recorder.Lines.Where(l => l.Level >= LogLevel.Information && PerRequest(l.Category)).ToList();
        if (logRequests)
        {
            // One line per forward (Berth's, naming class, object and container; the warm GETs here skip YARP) and two per
            // request (ASP.NET Core): one flag away.
            var forwards = perRequest.Where(l => l.Category == "Berth.Gateway.Requests").ToList();
            Assert.True(forwards.Count >= 5, string.Join("\n", perRequest));
            Assert.All(forwards, l => Assert.Contains("Site quiet: GET /index.html → container ", l.Message, StringComparison.Ordinal));
            Assert.True(perRequest.Count(l => l.Category == "Microsoft.AspNetCore.Hosting.Diagnostics") >= 10, string.Join("\n", perRequest));
        }
        else
        {
            Assert.True(perRequest.Count == 0, "per-request lines by default:\n" + string.Join("\n", perRequest));
        }
    }

    private sealed class RecordingLoggerProvider : ILoggerProvider
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(string Category, LogLevel Level, string Message)> _lines = new();

        public IReadOnlyList<(string Category, LogLevel Level, string Message)> Lines => [.. _lines];

        public void Clear() => _lines.Clear();

        public ILogger CreateLogger(string categoryName) => new Recorder(categoryName, _lines);

        public void Dispose()
        {
        }

        private sealed class Recorder(string category, System.Collections.Concurrent.ConcurrentQueue<(string, LogLevel, string)> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }

    private static int FreePort() => BerthTestHost.FreePort();
}
