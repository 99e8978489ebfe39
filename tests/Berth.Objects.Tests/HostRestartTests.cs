using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Reflection;
using Xunit.Abstractions;

namespace Berth.Objects.Tests;

/// <summary>Starts the test host as a real process, kills it with SIGKILL and starts it again on the same data.</summary>
public sealed class HostRestartTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "berth-tests", Guid.NewGuid().ToString("N"));
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private sealed record FiredAlarm(long ScheduledMs, long FiredMs, int RetryCount);

    public void Dispose()
    {
        _http.Dispose();
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task HostProcess_KilledAndRestarted_KeepsDataAndFiresAlarms()
    {
        long overdueAt;
        long futureAt;
        using (var first = await HostProcess.StartAsync(_dataDirectory, output))
        {
            var put = await _http.PutAsync($"{first.BaseUrl}/objects/survivor/kv/greeting", new StringContent("hello after crash"));
            put.EnsureSuccessStatusCode();
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            overdueAt = now + 1_500; // due while the host is down
            futureAt = now + 12_000; // due after the host is back
            (await _http.PostAsync($"{first.BaseUrl}/objects/survivor/alarm?atMs={overdueAt}", null)).EnsureSuccessStatusCode();
            (await _http.PostAsync($"{first.BaseUrl}/objects/later/alarm?atMs={futureAt}", null)).EnsureSuccessStatusCode();
            Assert.Empty(await _http.GetFromJsonAsync<FiredAlarm[]>($"{first.BaseUrl}/objects/survivor/fired") ?? []);

            await first.KillAsync();
        }

        using var second = await HostProcess.StartAsync(_dataDirectory, output);
        Assert.Equal("hello after crash", await _http.GetStringAsync($"{second.BaseUrl}/objects/survivor/kv/greeting"));
        var overdue = await WaitForFiredAsync(second.BaseUrl, "survivor");
        var future = await WaitForFiredAsync(second.BaseUrl, "later");

        output.WriteLine($"overdue alarm fired {overdue.FiredMs - overdue.ScheduledMs} ms late (host was down); future alarm {future.FiredMs - future.ScheduledMs} ms late");
        Assert.Equal(overdueAt, overdue.ScheduledMs);
        Assert.True(overdue.FiredMs >= overdueAt);
        Assert.Equal(futureAt, future.ScheduledMs);
        Assert.InRange(future.FiredMs - futureAt, 0, 1_000);
    }

    private async Task<FiredAlarm> WaitForFiredAsync(string baseUrl, string name)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(40))
        {
            var fired = await _http.GetFromJsonAsync<FiredAlarm[]>($"{baseUrl}/objects/{name}/fired") ?? [];
            if (fired.Length > 0)
            {
                return Assert.Single(fired);
            }

            await Task.Delay(100); // polling the host's HTTP API: there is no push channel across processes
        }

        throw new TimeoutException($"The alarm of '{name}' did not fire after the restart.");
    }

    private sealed class HostProcess : IDisposable
    {
        private readonly Process _process;

        private HostProcess(Process process, string baseUrl)
        {
            _process = process;
            BaseUrl = baseUrl;
        }

        public string BaseUrl { get; }

        public static async Task<HostProcess> StartAsync(string dataDirectory, ITestOutputHelper output)
        {
            var hostPath = typeof(HostRestartTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TestHostPath").Value!;
            var baseUrl = $"http://127.0.0.1:{TestSilo.FreePort()}";
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var arg in new[] { hostPath, "--urls", baseUrl, "--data", dataDirectory, "--siloPort", $"{TestSilo.FreePort()}", "--gatewayPort", $"{TestSilo.FreePort()}" })
            {
                start.ArgumentList.Add(arg);
            }

            var log = new ConcurrentQueue<string>();
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
            process.ErrorDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var host = new HostProcess(process, baseUrl);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var waited = Stopwatch.StartNew();
            while (waited.Elapsed < StartTimeout && !process.HasExited)
            {
                try
                {
                    if ((await http.GetAsync($"{baseUrl}/health")).IsSuccessStatusCode)
                    {
                        output.WriteLine($"host {process.Id} ready in {waited.ElapsedMilliseconds} ms");
                        return host;
                    }
                }
                catch (HttpRequestException)
                {
                    // not listening yet
                }
                catch (TaskCanceledException)
                {
                    // listening, but too slow to answer within 2 s on a loaded machine: ask again until StartTimeout
                }

                await Task.Delay(100);
            }

            host.Dispose();
            throw new InvalidOperationException($"The test host did not become ready:{Environment.NewLine}{string.Join(Environment.NewLine, log)}");
        }

        public async Task KillAsync()
        {
            _process.Kill(); // SIGKILL: no shutdown code runs
            await _process.WaitForExitAsync();
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }

            _process.Dispose();
        }
    }
}
