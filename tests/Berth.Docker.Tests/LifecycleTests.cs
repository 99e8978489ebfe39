using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Berth.Runtime;
using Berth.Testing;

namespace Berth.Docker.Tests;

public class LifecycleTests(EngineFixture fixture) : EngineTest(fixture)
{
    // 0 when the app's SIGTERM handler stops it cleanly, 143 (128 + 15) if the signal ends it first.
    private static readonly int[] GracefulExitCodes = [0, 143];

    [Fact]
    public async Task Start_AppImage_ServesHttpOnEnginePickedLoopbackPort()
    {
        var (id, uri) = await RunAppAsync(new Dictionary<string, string> { ["BERTH_OBJECT_ID"] = "obj-1" });

        var status = await Runtime.InspectAsync(id);
        Assert.NotNull(status);
        Assert.Equal(EngineContainerState.Running, status.State);
        var binding = status.Ports[TestImages.AppPort];
        Assert.Equal("127.0.0.1", binding.HostAddress);
        Assert.InRange(binding.HostPort, 1, 65535);

        using var document = JsonDocument.Parse(await Http.GetStringAsync(uri));
        Assert.Equal("obj-1", document.RootElement.GetProperty("env").GetProperty("BERTH_OBJECT_ID").GetString());
    }

    [Fact]
    public async Task WaitForExit_CommandExitsWithCode_ReturnsThatCode()
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/sh", "-c", "exit 3"));

        var exit = await WaitForExitAsync(id);

        Assert.Equal(new ContainerExit(3, OomKilled: false), exit);
        var status = await Runtime.InspectAsync(id);
        Assert.Equal(EngineContainerState.Exited, status!.State);
        Assert.Equal(3, status.ExitCode);
        Assert.NotNull(status.FinishedAt);
    }

    [Fact]
    public async Task Stop_GracefulApp_ExitsSoonAfterSigterm()
    {
        var (id, _) = await RunAppAsync();
        var clock = Stopwatch.StartNew();

        var exit = await Runtime.StopAsync(id, new StopOptions(ContainerSignal.SIGTERM, TimeSpan.FromSeconds(30)));

        Assert.Contains(exit.ExitCode, GracefulExitCodes);
        Assert.False(exit.OomKilled);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.Contains(await ReadLogsAsync(id), l => l.Text == "shutting down");
    }

    [Fact]
    public async Task Stop_ShellIgnoringSigterm_KilledAfterGrace()
    {
        var id = await RunAsync(Spec(Images.IgnoreSigterm));
        await ContainerWaits.WaitForLogAsync(Runtime, id, "ignoring SIGTERM", Generous);
        var clock = Stopwatch.StartNew();

        var exit = await Runtime.StopAsync(id, new StopOptions(ContainerSignal.SIGTERM, TimeSpan.FromMilliseconds(1500)));

        Assert.Equal(137, exit.ExitCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(1400), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Stop_AppIgnoringSigterm_KilledAfterGrace()
    {
        var (id, _) = await RunAppAsync(new Dictionary<string, string> { ["IGNORE_SIGTERM"] = "1" });
        var clock = Stopwatch.StartNew();

        var exit = await Runtime.StopAsync(id, new StopOptions(ContainerSignal.SIGTERM, TimeSpan.FromSeconds(1)));

        Assert.Equal(137, exit.ExitCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(30));
        Assert.Contains(await ReadLogsAsync(id), l => l.Text == "ignoring SIGTERM");
        Assert.DoesNotContain(await ReadLogsAsync(id), l => l.Text == "shutting down");
    }

    [Fact]
    public async Task Stop_AlreadyExited_ReturnsItsExitWithoutWaiting()
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/sh", "-c", "exit 5"));
        await WaitForExitAsync(id);

        var exit = await Runtime.StopAsync(id, new StopOptions(ContainerSignal.SIGTERM, TimeSpan.FromSeconds(10)));

        Assert.Equal(5, exit.ExitCode);
    }

    [Fact]
    public async Task Stop_MissingContainer_ThrowsContainerNotFound()
    {
        var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() => Runtime.StopAsync("berth-test-no-such-container", new StopOptions(ContainerSignal.SIGTERM, TimeSpan.FromSeconds(10))));
        Assert.Equal(ContainerRuntimeError.ContainerNotFound, error.Error);
    }

    [Fact]
    public async Task Signal_Sigkill_ExitsWith137()
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/sleep", "600"));

        await Runtime.SignalAsync(id, ContainerSignal.SIGKILL);

        Assert.Equal(137, (await WaitForExitAsync(id)).ExitCode);
    }

    [Fact]
    public async Task Signal_SigtermToApp_ShutsDownGracefully()
    {
        var (id, _) = await RunAppAsync();

        await Runtime.SignalAsync(id, ContainerSignal.SIGTERM);

        Assert.Contains((await WaitForExitAsync(id)).ExitCode, GracefulExitCodes);
    }

    [Fact]
    public async Task App_ExitRoute_ExitsWithRequestedCode()
    {
        var (id, uri) = await RunAppAsync();

        var answer = await Http.GetStringAsync(new Uri(uri, "/exit?code=7"));

        Assert.Contains("exiting with code 7", answer, StringComparison.Ordinal);
        Assert.Equal(7, (await WaitForExitAsync(id)).ExitCode);
    }

    [Fact]
    public async Task App_CrashRoute_DiesAbnormally()
    {
        var (id, uri) = await RunAppAsync();

        try
        {
            await Http.GetStringAsync(new Uri(uri, "/crash"));
        }
        catch (HttpRequestException)
        {
            // The process may die before the response completes; that is the point.
        }

        var exit = await WaitForExitAsync(id);
        Assert.NotEqual(0, exit.ExitCode);
        Assert.Contains(await ReadLogsAsync(id), l => l.Text == "crashing");
    }

    [Fact]
    public async Task App_NeverListenWithExitAfter_ExitsWithExitCodeWithoutListening()
    {
        var id = await RunAsync(AppSpec(new Dictionary<string, string>
        {
            ["NEVER_LISTEN"] = "1",
            ["EXIT_AFTER_MS"] = "300",
            ["EXIT_CODE"] = "4",
        }));

        Assert.Equal(4, (await WaitForExitAsync(id)).ExitCode);
        var lines = await ReadLogsAsync(id);
        Assert.Contains(lines, l => l.Text == "never listening");
        Assert.DoesNotContain(lines, l => l.Text.StartsWith("listening on", StringComparison.Ordinal));
    }

    [Fact]
    public async Task App_StartupDelay_AnswersAfterDelay()
    {
        var (_, uri) = await RunAppAsync(new Dictionary<string, string> { ["STARTUP_DELAY_MS"] = "500" });

        using var response = await Http.GetAsync(new Uri(uri, "/slow?ms=10"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Remove_RunningContainer_KillsAndRemovesIt()
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/sleep", "600"));

        await Runtime.RemoveAsync(id);

        Assert.Null(await Runtime.InspectAsync(id));
    }

    [Fact]
    public async Task Remove_AlreadyRemoved_Succeeds()
    {
        var id = await CreateAsync(Spec(Images.Base, "/bin/true"));
        await Runtime.RemoveAsync(id);

        await Runtime.RemoveAsync(id);

        Assert.Null(await Runtime.InspectAsync(id));
    }

    [Fact]
    public async Task Inspect_MissingContainer_ReturnsNull() =>
        Assert.Null(await Runtime.InspectAsync("berth-test-no-such-container"));

    [Fact]
    public async Task Start_MissingContainer_ThrowsContainerNotFound()
    {
        var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() => Runtime.StartAsync("berth-test-no-such-container"));
        Assert.Equal(ContainerRuntimeError.ContainerNotFound, error.Error);
        Assert.Contains("berth-test-no-such-container", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_DuplicateName_ThrowsConflict()
    {
        var spec = Spec(Images.Base, "/bin/true");
        await CreateAsync(spec);

        var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() => CreateAsync(spec));

        Assert.Equal(ContainerRuntimeError.Conflict, error.Error);
    }

    [Fact]
    public async Task Create_MissingImage_ThrowsImageNotFoundNamingTheImage()
    {
        var spec = Spec("berth-test/does-not-exist:1.0", "/bin/true");

        var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() => CreateAsync(spec));

        Assert.Equal(ContainerRuntimeError.ImageNotFound, error.Error);
        Assert.Contains("berth-test/does-not-exist:1.0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_Spec_AppliesCommandEnvironmentWorkingDirectoryAndLabels()
    {
        var spec = Spec(Images.Base, "/bin/sh", "-c", "echo \"$GREETING from $(pwd)\"") with
        {
            Environment = new Dictionary<string, string> { ["GREETING"] = "hello" },
            WorkingDirectory = "/tmp",
            Labels = TestResources.Labels(new Dictionary<string, string> { [BerthLabels.App] = "lifecycle" }),
        };
        var id = await RunAsync(spec);
        await WaitForExitAsync(id);

        Assert.Contains(await ReadLogsAsync(id), l => l.Text == "hello from /tmp");
        var status = await Runtime.InspectAsync(id);
        Assert.Equal("lifecycle", status!.Labels[BerthLabels.App]);
        Assert.Equal("1", status.Labels[BerthLabels.Managed]);
        Assert.Equal(spec.Name, status.Name);
        Assert.Equal(Images.Base, status.Image);
    }
}
