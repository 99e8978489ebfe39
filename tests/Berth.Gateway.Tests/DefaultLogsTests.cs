using Berth.Containers;
using Berth.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Gateway.Tests;

/// <summary>A class whose process writes terminal escapes (a window title, a colour, a cursor move) and exits 3.</summary>
public sealed class EscapingContainer : Container
{
    public EscapingContainer()
    {
        DefaultPort = 8080;
        Entrypoint = ["sh", "-c", "printf '\\033]0;pwned\\007\\033[31mred\\033[2Aup\\n'; exit 3"];
    }
}

/// <summary>
/// What a user sees at the default log level (Information, no Logging config): start-up, one line per container event
/// naming the class and the object's name, and errors; not the libraries' routine lines.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class DefaultLogsTests(GatewayFixture fixture)
{
    private static readonly string AppContainerCategory = typeof(AppContainer).FullName!;

    /// <summary>A host with the platform's default logging: the test host's own filters are replaced by a plain app's (Information).</summary>
    private Task<BerthTestHost> StartAsync(LogRecorder recorder, Action<ContainerClassOptions> configure) =>
        BerthTestHost.StartAsync(
            new BerthTestHostOptions
            {
                ConfigureHost = builder =>
                {
                    builder.Logging.ClearProviders().AddProvider(recorder);
                    builder.Services.Configure<LoggerFilterOptions>(o =>
                    {
                        o.Rules.Clear();
                        o.MinLevel = LogLevel.Information;
                    });
                },
            },
            berth =>
            {
                berth.Services.AddSingleton<HookLog>();
                berth.AddContainer<AppContainer>(o =>
                {
                    o.Image = fixture.Images.App;
                    configure(o);
                });
            },
            app => app.MapContainer<AppContainer>("/c/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true),
            CancellationToken.None);

    private static bool IsExpectedOnThisMachine(LogRecord r) =>
        (r.Category == "Orleans.Runtime.Silo" && r.Message.Contains("ServerGC", StringComparison.Ordinal)) ||
        r.EventId.Name == "DiskLimitsNotEnforced" ||
        (r.Category.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal) && r.Message.Contains("HTTP/2", StringComparison.Ordinal));

    private static bool IsContainerEvent(LogRecord r) =>
        r.EventId.Id > BerthEventIds.Containers && r.EventId.Id < BerthEventIds.Containers + BerthEventIds.RangeSize;

    [Fact]
    public async Task DefaultLogging_StartRequestSleepShutdown_OneLinePerContainerEventNamingClassAndObject_NoLibraryNoise()
    {
        var recorder = new LogRecorder();
        await using (var host = await StartAsync(recorder, o => o.SleepAfter = TimeSpan.FromSeconds(1)))
        {
            (await host.Client.GetAsync("/c/alpha/")).EnsureSuccessStatusCode();
            (await host.Client.GetAsync("/c/alpha/")).EnsureSuccessStatusCode();
            await Eventually.ValueAsync(
                () => host.Services.GetRequiredService<ContainerNamespace<AppContainer>>().GetByName("alpha").Object.GetStateAsync(),
                s => s.State == ContainerObjectState.Stopped, "the container to sleep");

            // Another object's container still runs when the host stops (Ctrl+C).
            (await host.Client.GetAsync("/c/beta/")).EnsureSuccessStatusCode();
        }

        var records = recorder.Records;
        var shown = string.Join("\n", records.Select(r => $"{r.Level} {r.Category}[{r.EventId.Id}] {r.Message}"));

        // Not vacuous: the host's start-up lines came through the recorder.
        Assert.Contains(records, r => r.Category == "Microsoft.Hosting.Lifetime" && r.Level == LogLevel.Information);

        // No Orleans option dump or membership chatter, no YARP per-request lines, no ASP.NET Core request lines.
        Assert.DoesNotContain(records, r => r.Level < LogLevel.Warning &&
            (r.Category.StartsWith("Orleans", StringComparison.Ordinal) || r.Category.StartsWith("Yarp", StringComparison.Ordinal) ||
             r.Category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)));

        // A clean cycle (start, requests, sleep, Ctrl+C) warns of nothing: no watchdog "deadlock", no error at shutdown.
        // Allowed: what this machine and the test host's listener make true (no ServerGC, no disk quotas, h2c without TLS).
        Assert.True(!records.Any(r => r.Level >= LogLevel.Warning && !IsExpectedOnThisMachine(r)), "warnings or errors in a clean run:\n" + shown);

        // One line per container event, each naming class and object name.
        var events = records.Where(IsContainerEvent).Where(r => r.Message.Contains(" alpha", StringComparison.Ordinal)).ToList();
        Assert.All(records.Where(IsContainerEvent), r => Assert.Matches("^AppContainer (alpha|beta)[ :]", r.Message));
        Assert.All(events, r => Assert.Equal(AppContainerCategory, r.Category));
        foreach (var name in new[] { "ContainerObjectStarting", "ContainerObjectReady", "ActivityExpired", "ContainerObjectStopped" })
        {
            Assert.True(events.Count(r => r.EventId.Name == name) == 1, $"expected one {name} line:\n{shown}");
        }

        Assert.Contains(events, r => r.EventId.Name == "ContainerObjectStopped" && r.Message.Contains("(Sleep)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DefaultLogging_ContainerOomKilled_ExactlyOneOutOfMemoryLine()
    {
        var recorder = new LogRecorder();
        await using (var host = await StartAsync(recorder, o => o.InstanceType = InstanceType.Custom(1, 128, 1000)))
        {
            var container = host.Services.GetRequiredService<ContainerNamespace<AppContainer>>().GetByName("hog").Object;
            (await host.Client.GetAsync("/c/hog/")).EnsureSuccessStatusCode();
            var monitor = container.MonitorAsync();
            _ = host.Client.GetAsync("/c/hog/alloc?mb=400");
            var stop = await monitor.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(StopReason.OutOfMemory, stop?.Reason);
        }

        var records = recorder.Records;
        var shown = string.Join("\n", records.Select(r => $"{r.Level} {r.Category}[{r.EventId.Id}] {r.Message}"));
        var oomLines = records.Where(r => r.Level >= LogLevel.Information &&
            (r.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) || r.Message.Contains("OOM", StringComparison.Ordinal) ||
             r.Message.Contains("OutOfMemory", StringComparison.Ordinal))).ToList();
        var oom = Assert.Single(oomLines);
        Assert.Equal(LogLevel.Warning, oom.Level);
        Assert.Contains("AppContainer hog", oom.Message, StringComparison.Ordinal);
        Assert.Contains("128 MiB", oom.Message, StringComparison.Ordinal);
        Assert.True(oomLines.Count == 1, shown);
    }

    [Fact]
    public async Task DefaultLogging_ExitsBeforeReadyThreeTimes_OneWarningPerFailedStart_ThenOneCrashLoopLine()
    {
        var recorder = new LogRecorder();
        await using (var host = await StartAsync(recorder, o =>
        {
            o.EnvVars["NEVER_LISTEN"] = "1";
            o.EnvVars["EXIT_AFTER_MS"] = "0";
            o.EnvVars["EXIT_CODE"] = "3";
        }))
        {
            var errors = new List<string>();
            for (var i = 0; i < 4; i++)
            {
                using var response = await host.Client.GetAsync("/c/broken/");
                using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                errors.Add(body.RootElement.GetProperty("error").GetString()!);
            }

            Assert.Equal(["exited_during_start", "exited_during_start", "exited_during_start", "crash_loop"], errors);
        }

        var records = recorder.Records;
        var shown = string.Join("\n", records.Select(r => $"{r.Level} {r.Category}[{r.EventId.Id}] {r.EventId.Name} {r.Message}"));
        var warnings = records.Where(r => IsContainerEvent(r) && r.Level >= LogLevel.Warning).ToList();
        // Whichever way the exit is seen first (the exit monitor or the start's own wait), one line says a start failed;
        // before, a start whose exit the monitor saw first also logged "crashed (Exited)".
        Assert.True(warnings.Count(r => r.EventId.Name == "ContainerObjectStartFailed") == 3, shown);
        Assert.False(warnings.Any(r => r.EventId.Name == "ContainerObjectCrashed"), shown);
        Assert.True(warnings.Count(r => r.EventId.Name == "ContainerCrashLoop") == 1, shown);
    }

    [Fact]
    public async Task DefaultLogging_ContainerWritesTerminalEscapes_HostLogShowsThemVisibly()
    {
        var recorder = new LogRecorder();
        await using (var host = await BerthTestHost.StartAsync(
            new BerthTestHostOptions { ConfigureHost = builder => builder.Logging.ClearProviders().AddProvider(recorder) },
            berth => berth.AddContainer<EscapingContainer>(o => o.Image = fixture.Images.Base),
            app => app.MapContainer<EscapingContainer>("/e/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true),
            CancellationToken.None))
        {
            using var response = await host.Client.GetAsync("/e/escapes/");
            Assert.Equal(System.Net.HttpStatusCode.BadGateway, response.StatusCode);
        }

        var shown = string.Join("\n", recorder.Records.Select(r => $"{r.Level} {r.EventId.Name} {r.Message}"));
        // The output's line, escaped as berth tail escapes it; before, ESC reached whoever read the log on a terminal.
        Assert.True(recorder.Records.Any(r => r.Message.Contains("^[]0;pwned^G^[[31mred^[[2Aup", StringComparison.Ordinal)), shown);
        Assert.False(recorder.Records.Any(r => r.Message.Contains('\u001b', StringComparison.Ordinal)), shown);
    }
}
