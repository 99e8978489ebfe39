using System.Text;
using Berth.Runtime;
using Berth.Testing;

namespace Berth.Docker.Tests;

public class ExecAndLogsTests(EngineFixture fixture) : EngineTest(fixture)
{
    [Fact]
    public async Task Exec_Command_SeparatesStdoutAndStderrAndReturnsExitCode()
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/sleep", "600"));
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();

        var exitCode = await Runtime.ExecAsync(id,
            new ExecSpec { Command = ["/bin/sh", "-c", "echo out; echo err >&2; exit 42"] },
            new ExecStreams(Stdout: stdout, Stderr: stderr));

        Assert.Equal(42, exitCode);
        Assert.Equal("out\n", Encoding.UTF8.GetString(stdout.ToArray()));
        Assert.Equal("err\n", Encoding.UTF8.GetString(stderr.ToArray()));
    }

    [Fact]
    public async Task Exec_WithStdin_PipesInputToTheProcess()
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/sleep", "600"));
        var input = string.Join('\n', Enumerable.Range(0, 5000).Select(i => $"line {i}")) + "\n";
        using var stdin = new MemoryStream(Encoding.UTF8.GetBytes(input));
        using var stdout = new MemoryStream();

        var exitCode = await Runtime.ExecAsync(id,
            new ExecSpec { Command = ["/bin/sh", "-c", "wc -l"] },
            new ExecStreams(stdin, stdout));

        Assert.Equal(0, exitCode);
        Assert.Equal("5000", Encoding.UTF8.GetString(stdout.ToArray()).Trim());
    }

    [Fact]
    public async Task Exec_EnvironmentWorkingDirectoryAndUser_AreApplied()
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/sleep", "600"));
        using var stdout = new MemoryStream();

        await Runtime.ExecAsync(id,
            new ExecSpec
            {
                Command = ["/bin/sh", "-c", "echo \"$WHO $(pwd) $(id -u)\""],
                Environment = new Dictionary<string, string> { ["WHO"] = "tester" },
                WorkingDirectory = "/tmp",
                User = "65534",
            },
            new ExecStreams(Stdout: stdout));

        Assert.Equal("tester /tmp 65534", Encoding.UTF8.GetString(stdout.ToArray()).Trim());
    }

    [Fact]
    public async Task Exec_MissingContainer_ThrowsContainerNotFound()
    {
        var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() =>
            Runtime.ExecAsync("berth-test-no-such-container", new ExecSpec { Command = ["true"] }, new ExecStreams()));
        Assert.Equal(ContainerRuntimeError.ContainerNotFound, error.Error);
    }

    [Fact]
    public async Task GetLogs_ExitedContainer_ReturnsLinesWithStreamsAndTimestamps()
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/sh", "-c", "echo one; echo two >&2; printf 'no newline'"));
        await WaitForExitAsync(id);

        var lines = await ReadLogsAsync(id);

        Assert.Contains(lines, l => l is { Stream: LogStream.Stdout, Text: "one" });
        Assert.Contains(lines, l => l is { Stream: LogStream.Stderr, Text: "two" });
        Assert.Contains(lines, l => l is { Stream: LogStream.Stdout, Text: "no newline" });
        Assert.All(lines, l => Assert.InRange(l.Timestamp!.Value, DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddMinutes(1)));
    }

    [Fact]
    public async Task GetLogs_Tail_ReturnsOnlyTheLastLines()
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/sh", "-c", "for i in 1 2 3 4 5; do echo $i; done"));
        await WaitForExitAsync(id);

        var lines = await ReadLogsAsync(id, new LogOptions(Tail: 2));

        Assert.Equal(["4", "5"], lines.Select(l => l.Text));
    }

    [Fact]
    public async Task GetLogs_Follow_StreamsNewLinesUntilExit()
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/sh", "-c", "echo first; sleep 1; echo second; sleep 1; echo third"));

        var lines = await ReadLogsAsync(id, new LogOptions(Follow: true));

        Assert.Equal(["first", "second", "third"], lines.Select(l => l.Text));
        Assert.Equal(EngineContainerState.Exited, (await Runtime.InspectAsync(id))!.State);
    }

    [Fact]
    public async Task GetLogs_FollowCancelled_StopsEnumerating()
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/sh", "-c", "echo ready; sleep 600"));
        using var cancel = new CancellationTokenSource(Generous);
        var seen = new List<string>();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var line in Runtime.GetLogsAsync(id, new LogOptions(Follow: true), cancel.Token))
            {
                seen.Add(line.Text);
                await cancel.CancelAsync();
            }
        });

        Assert.Equal(["ready"], seen);
    }

    [Fact]
    public async Task GetStats_RunningApp_ReportsCpuMemoryAndNetwork()
    {
        var (id, uri) = await RunAppAsync();
        await Http.GetStringAsync(new Uri(uri, "/alloc?mb=20"));

        var stats = await Runtime.GetStatsAsync(id);

        Assert.True(stats.CpuTotalNanoseconds > 0);
        Assert.True(stats.CpuPercent >= 0);
        Assert.True(stats.MemoryUsageBytes >= 20UL * 1024 * 1024, $"memory {stats.MemoryUsageBytes}");
        Assert.Equal((ulong)InstanceType.Basic.MemoryBytes, stats.MemoryLimitBytes);
        Assert.True(stats.NetworkReceivedBytes > 0);
        Assert.True(stats.NetworkSentBytes > 0);
    }

    [Fact]
    public async Task App_Routes_AnswerAsDocumented()
    {
        var (_, uri) = await RunAppAsync();

        using var echo = await Http.PostAsync(new Uri(uri, "/echo"), new StringContent("ping"));
        Assert.Equal("ping", await echo.Content.ReadAsStringAsync());

        using var set = await Http.PostAsync(new Uri(uri, "/state"), new StringContent("saved"));
        Assert.Equal("saved", await Http.GetStringAsync(new Uri(uri, "/state")));

        var stream = await Http.GetStringAsync(new Uri(uri, "/stream?chunks=3&ms=10"));
        Assert.Equal("chunk 0\nchunk 1\nchunk 2\n", stream);

        Assert.Contains("\"PORT\":\"8080\"", await Http.GetStringAsync(new Uri(uri, "/env")), StringComparison.Ordinal);
        Assert.Contains("\"Host\"", await Http.GetStringAsync(new Uri(uri, "/headers")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task App_WebSocket_EchoesTextBinaryAndClose()
    {
        var (_, uri) = await RunAppAsync();
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        using var timeout = new CancellationTokenSource(Generous);
        await socket.ConnectAsync(new Uri($"ws://{uri.Authority}/ws"), timeout.Token);
        var buffer = new byte[1024];

        await socket.SendAsync("hello"u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Text, true, timeout.Token);
        var text = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal("hello", Encoding.UTF8.GetString(buffer, 0, text.Count));

        await socket.SendAsync(new byte[] { 1, 2, 3 }, System.Net.WebSockets.WebSocketMessageType.Binary, true, timeout.Token);
        var binary = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal(System.Net.WebSockets.WebSocketMessageType.Binary, binary.MessageType);
        Assert.Equal(new byte[] { 1, 2, 3 }, buffer[..binary.Count]);

        await socket.CloseAsync((System.Net.WebSockets.WebSocketCloseStatus)4001, "bye", timeout.Token);
        Assert.Equal(4001, (int)socket.CloseStatus!.Value);
        Assert.Equal("bye", socket.CloseStatusDescription);
    }
}
