using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Berth.Containers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway.Tests;

/// <summary>A class whose entrypoint prints a missing-config line to stderr and exits 3 at once.</summary>
public sealed class MisconfiguredContainer : Container
{
    public MisconfiguredContainer()
    {
        DefaultPort = 8080;
        Entrypoint = ["sh", "-c", "echo 'config.ini: no such file' >&2; exit 3"];
    }
}

/// <summary>A class whose process writes one 200,000-byte line, its error at the end, and exits 3.</summary>
public sealed class LongLastLineContainer : Container
{
    public LongLastLineContainer()
    {
        DefaultPort = 8080;
        Entrypoint = ["sh", "-c", "head -c 200000 /dev/zero | tr '\\0' B; echo ' Error: the real cause'; exit 3"];
    }
}

/// <summary>A class whose app starts listening only after STARTUP_DELAY_MS.</summary>
public sealed class SlowContainer : Container
{
    public SlowContainer() => DefaultPort = 8080;
}

/// <summary>Issue 9, cases 2, 3 and 6, against the real engine.</summary>
[Collection(GatewayCollection.Name)]
public sealed class LifecycleHardeningTests(GatewayFixture fixture)
{
    private static async Task<(HttpStatusCode Status, string Error, string Message)> ErrorOfAsync(HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.GetProperty("error").GetString()!, body.RootElement.GetProperty("message").GetString()!);
    }

    [Fact]
    public async Task ExitsAtOnce_EveryRequestNamesExitCodeAndLastOutput_AndStateKeepsIt()
    {
        await using var host = await BerthTestHost.StartAsync(
            berth =>
            {
                berth.AddContainer<MisconfiguredContainer>(o => o.Image = fixture.Images.Base);
                berth.ConfigureContainers(o => o.CrashLoopThreshold = 3);
            },
            app => app.MapContainer<MisconfiguredContainer>("/m/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true));

        var errors = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await host.Client.GetAsync("/m/broken/");
            var (status, error, message) = await ErrorOfAsync(response);
            Assert.True(status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable, $"{status} {error}: {message}");
            if (error == "crash_loop")
            {
                // Retry-After is the backoff the message names, not a fixed 5 s.
                var seconds = System.Text.RegularExpressions.Regex.Match(message, @"tries again in (\d+) s").Groups[1].Value;
                Assert.Equal(seconds, response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            Assert.True(message.Contains("code 3", StringComparison.Ordinal), $"{error}: {message}");
            Assert.True(message.Contains("config.ini: no such file", StringComparison.Ordinal), $"{error}: {message}");
            Assert.DoesNotContain("no address", message);
            errors.Add(error);
        }

        // Three crashes make a loop: the later requests are answered from the backoff, not by new containers.
        Assert.Equal(["exited_during_start", "exited_during_start", "exited_during_start"], errors.Take(3));
        Assert.All(errors.Skip(3), e => Assert.NotEqual("exited_during_start", e));
        var state = await host.Services.GetRequiredService<ContainerNamespace<MisconfiguredContainer>>().GetByName("broken").Object.GetStateAsync();
        Assert.Equal(3, state.ExitCode);
        Assert.Contains("config.ini: no such file", state.LastOutput);
        Assert.Empty(await host.ContainersAsync());
    }

    [Fact]
    public async Task ExitsAfterOneHugeLine_TheErrorNamesTheLinesEnd_WithoutTheEnginesTimes()
    {
        await using var host = await BerthTestHost.StartAsync(
            berth => berth.AddContainer<LongLastLineContainer>(o => o.Image = fixture.Images.Base),
            app => app.MapContainer<LongLastLineContainer>("/l/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true));

        var (status, error, message) = await ErrorOfAsync(await host.Client.GetAsync("/l/huge/"));

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal("exited_during_start", error);
        // Before: the line's first 64 Ki characters were kept, so its end (the error) was lost; and a time of the engine's
        // stood inside the text at every 16 KiB piece of the line.
        Assert.EndsWith("B Error: the real cause", message, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", message);
        Assert.InRange(message.Length, 4000, 5000);
    }

    [Fact]
    public async Task WaitsLongerThanTheRpcTimeout_SlowAppAnswers200_DeafAppAnswersPortTimeoutAtTheConfiguredTime()
    {
        await using var host = await BerthTestHost.StartAsync(
            berth =>
            {
                berth.AddContainer<SlowContainer>(o =>
                {
                    o.Image = fixture.Images.App;
                    o.EnvVars["STARTUP_DELAY_MS"] = "40000";
                });
                berth.ConfigureContainers(o => o.PortReadyTimeout = TimeSpan.FromSeconds(45));
            },
            app => app.MapContainer<SlowContainer>("/slow/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true));
        host.Client.Timeout = TimeSpan.FromMinutes(3);

        var clock = Stopwatch.StartNew();
        var slow = host.Client.GetAsync("/slow/a/");
        var deafHost = BerthTestHost.StartAsync(
            berth =>
            {
                berth.AddContainer<SlowContainer>(o =>
                {
                    o.Image = fixture.Images.App;
                    o.EnvVars["NEVER_LISTEN"] = "1";
                });
                berth.ConfigureContainers(o => o.PortReadyTimeout = TimeSpan.FromSeconds(35));
            },
            app => app.MapContainer<SlowContainer>("/deaf/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true));
        await using var deaf = await deafHost;
        deaf.Client.Timeout = TimeSpan.FromMinutes(3);
        var deafClock = Stopwatch.StartNew();
        var (status, error, message) = await ErrorOfAsync(await deaf.Client.GetAsync("/deaf/b/"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("port_timeout", error);
        Assert.Contains("35 s", message);
        Assert.InRange(deafClock.Elapsed, TimeSpan.FromSeconds(35), TimeSpan.FromSeconds(50));

        using var response = await slow;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(80));
    }

    [Fact]
    public async Task ClientAbortsColdStarts_MaxInstances2_CapacityCountsWhatRunsAndNewIdsStart()
    {
        await using var host = await BerthTestHost.StartAsync(
            berth =>
            {
                berth.AddContainer<SlowContainer>(o =>
                {
                    o.Image = fixture.Images.App;
                    o.MaxInstances = 2;
                    o.SleepAfter = TimeSpan.FromSeconds(2);
                    o.EnvVars["STARTUP_DELAY_MS"] = "1500";
                });
            },
            app => app.MapContainer<SlowContainer>("/s/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true));
        var leases = host.Services.GetRequiredService<ContainerLeaseRegistry>();

        foreach (var id in new[] { "abort-1", "abort-2" })
        {
            using var abort = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => host.Client.GetAsync($"/s/{id}/", abort.Token));
        }

        // The abandoned starts complete for their objects, then sleep: the count follows what runs, down to zero.
        var deadline = Stopwatch.StartNew();
        while (leases.RunningCount(nameof(SlowContainer)) != 0 || (await host.ContainersAsync()).Count != 0)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30),
                $"running count {leases.RunningCount(nameof(SlowContainer))}, containers {(await host.ContainersAsync()).Count}");
            await Task.Delay(200);
        }

        foreach (var id in new[] { "new-1", "new-2" })
        {
            using var response = await host.Client.GetAsync($"/s/{id}/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

    }
}
