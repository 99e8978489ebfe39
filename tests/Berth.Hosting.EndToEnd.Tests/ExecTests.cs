using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Berth.Containers;
using Berth.Gateway;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Hosting.EndToEnd.Tests;

/// <summary>The test app with a very short sleep, to see what an exec longer than <c>SleepAfter</c> does.</summary>
public sealed class QuickSleeper : Container
{
    public QuickSleeper()
    {
        DefaultPort = 8080;
        SleepAfter = TimeSpan.FromSeconds(2);
    }
}

/// <summary>The test app, recording every stop its object sees (by object ID).</summary>
public sealed class StopRecorder : Container
{
    public static ConcurrentDictionary<string, ConcurrentQueue<StopReason>> Stops { get; } = new();

    public StopRecorder() => DefaultPort = 8080;

    protected override Task OnStopAsync(ContainerStopInfo stop, CancellationToken cancellationToken)
    {
        Stops.GetOrAdd(Context.Id.ToString(), _ => new()).Enqueue(stop.Reason);
        return Task.CompletedTask;
    }
}

/// <summary>Exec as an RPC on a container object (what the sandbox sample does), and the admin API's exec and stop through the object.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class ExecTests(EndToEndFixture fixture) : IAsyncLifetime, IDisposable
{
    private readonly AppDirectory _app = new();
    private BerthTestHost _host = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _app.WriteConfig($$"""
            { "name": "{{_app.AppName}}", "containers": [
                { "class_name": "QuickSleeper", "image": "{{fixture.Images.App}}" },
                { "class_name": "StopRecorder", "image": "{{fixture.Images.App}}" } ] }
            """);
        _host = await _app.StartHostAsync(berth => berth.AddContainer<QuickSleeper>().AddContainer<StopRecorder>(), app => app.MapBerthAdmin());
        _admin = new HttpClient { BaseAddress = _host.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        _admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            (await File.ReadAllTextAsync(Path.Combine(_host.DataDirectory, AdminOptions.TokenFileName))).Trim());
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _app.Delete();
    }

    public void Dispose() => _admin?.Dispose();

    private async Task<IContainer> StartedAsync(string name)
    {
        var sandbox = _host.Services.GetRequiredService<ContainerNamespace<QuickSleeper>>().GetByName(name);
        await sandbox.Object.StartAndWaitForPortsAsync();
        return sandbox.Object;
    }

    [Fact]
    public async Task ExecAsync_NoContainerRunning_ThrowsUntilStarted()
    {
        var sandbox = _host.Services.GetRequiredService<ContainerNamespace<QuickSleeper>>().GetByName("not-started");

        await Assert.ThrowsAsync<InvalidOperationException>(() => sandbox.Object.ExecAsync(["echo", "hi"]));

        await sandbox.Object.StartAndWaitForPortsAsync();
        var result = await sandbox.Object.ExecAsync(["sh", "-c", "echo hi; echo err >&2; exit 4"]);
        Assert.Equal(4, result.ExitCode);
        Assert.Equal("hi\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
        Assert.False(result.StdoutTruncated);
    }

    [Fact]
    public async Task ExecAsync_StdinGiven_ReachesTheCommand()
    {
        var sandbox = await StartedAsync("stdin");

        var result = await sandbox.ExecAsync(["wc", "-c"], "12345"u8.ToArray());

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("5", result.Stdout.Trim());
    }

    [Fact]
    public async Task ExecAsync_CommandOutlastsSleepAfter_CompletesInARunningContainer()
    {
        var sandbox = await StartedAsync("long-exec");

        // Runs three times SleepAfter with no HTTP request: the command is the activity.
        var result = await sandbox.ExecAsync(["sh", "-c", "sleep 6; echo done"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("done\n", result.Stdout);
    }

    [Fact]
    public async Task ExecAsync_CommandLongerThanOrleansResponseTimeout_Completes()
    {
        var sandbox = await StartedAsync("forty-five");

        // Orleans cuts a single call after 30 s; the exec is a session of short pulls.
        var result = await sandbox.ExecAsync(["sh", "-c", "sleep 45; echo done; exit 5"]);

        Assert.Equal(5, result.ExitCode);
        Assert.Equal("done\n", result.Stdout);
    }

    [Fact]
    public async Task ExecAsync_OutputPastTheCap_KeepsTheCapAndSaysTruncated()
    {
        var sandbox = await StartedAsync("capped");

        var result = await sandbox.ExecAsync(["sh", "-c", "yes aaaaaaaaa | head -c 3000000; echo small >&2; exit 2"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(new ContainerExecOptions().MaxOutputBytes, result.StdoutBytes.Length);
        Assert.True(result.StdoutTruncated);
        Assert.All(result.StdoutBytes, b => Assert.True(b is (byte)'a' or (byte)'\n'));
        Assert.Equal("small\n", result.Stderr);
        Assert.False(result.StderrTruncated);
    }

    [Fact]
    public async Task ExecAsync_BinaryOutput_RoundTripsExactly()
    {
        var sandbox = await StartedAsync("binary");
        var every = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

        var result = await sandbox.ExecAsync(["cat"], every);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(every, result.StdoutBytes);
    }

    [Fact]
    public async Task AdminExec_SixtyMegabytes_StreamsEveryByteWithHostMemoryBounded()
    {
        var sandbox = _host.Services.GetRequiredService<ContainerNamespace<QuickSleeper>>().GetByName("sixty");
        await sandbox.Object.StartAndWaitForPortsAsync();
        const long Size = 60_000_000;
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var peak = 0L;

        using var request = new HttpRequestMessage(HttpMethod.Post, $"_berth/admin/containers/QuickSleeper/{sandbox.Id}/exec")
        {
            Content = JsonContent.Create(new { command = new[] { "sh", "-c", $"yes aaaaaaaaa | head -c {Size}" } }),
        };
        using var response = await _admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        long received = 0, nextSample = 0;
        long? exitCode = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            using var frame = JsonDocument.Parse(line);
            if (frame.RootElement.TryGetProperty("exitCode", out var code))
            {
                exitCode = code.GetInt64();
                continue;
            }

            Assert.Equal("stdout", frame.RootElement.GetProperty("stream").GetString());
            received += frame.RootElement.GetProperty("data").GetBytesFromBase64().Length;
            if (received >= nextSample)
            {
                // What the host holds while the output flows (the client here keeps nothing).
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - before);
                nextSample += 10_000_000;
            }
        }

        Assert.Equal(Size, received);
        Assert.Equal(0, exitCode);
        Assert.True(peak < 16 * 1024 * 1024, $"Managed memory grew by {peak / (1024 * 1024)} MiB while streaming {Size / 1_000_000} MB.");
    }

    [Fact]
    public async Task AdminStop_OperatorStop_ObjectSeesRequestedAndRecordsStopped()
    {
        var recorder = _host.Services.GetRequiredService<ContainerNamespace<StopRecorder>>().GetByName("operator");
        await recorder.Object.StartAndWaitForPortsAsync();

        using var response = await _admin.PostAsync($"_berth/admin/containers/StopRecorder/{recorder.Id}/stop", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([StopReason.Requested], StopRecorder.Stops[recorder.Id.ToString()]);
        var state = await recorder.Object.GetStateAsync();
        Assert.Contains(state.State, new[] { ContainerObjectState.Stopped, ContainerObjectState.StoppedWithCode });
        Assert.Equal("requested", state.Reason);
    }
}
