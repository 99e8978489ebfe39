using System.Globalization;
using Berth.Containers;
using Berth.Docker;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Hosting.Tests;

/// <summary>Live logs over the real engine: the lines a running container writes reach an SSE follower as it writes them.</summary>
public sealed class LogsRealEngineTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string ClassName = "Sandbox";

    /// <summary>Seconds since boot on this machine (containers share the kernel's clock, so a container reads the same).</summary>
    private static double Uptime() =>
        double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);

    [Fact]
    public async Task ContainerLine_Follower_ArrivesWhileTheContainerRuns()
    {
        var runtime = new DockerContainerRuntime(new DockerRuntimeOptions());
        // On a fresh engine (CI) the base image exists only once some test built it: build it here (a no-op when current).
        await TestImages.EnsureBuiltAsync(runtime);
        var app = "tlogs" + Guid.NewGuid().ToString("N")[..8];
        const string node = "n1";
        var objectId = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
        await using var host = await LogsTestHost.StartAsync(runtime, app, node);
        string? containerId = null;
        try
        {
            using var response = await host.Client.GetAsync($"_berth/admin/logs?follow=true&tail=0&class={ClassName}", HttpCompletionOption.ResponseHeadersRead);
            using var sse = new LogsSse(await response.Content.ReadAsStreamAsync());
            using (var subscribed = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                await sse.WaitForCommentAsync(subscribed.Token);
            }

            var labels = new Dictionary<string, string>(BerthNames.ForNode(app, node)) { [BerthLabels.Class] = ClassName, [BerthLabels.ObjectId] = objectId };
            containerId = await runtime.CreateAsync(new ContainerSpec
            {
                Name = BerthNames.Container(app, node, ClassName, objectId),
                Image = TestImages.BaseImage,
                Entrypoint = ["sh", "-c"],
                Command = ["i=0; while [ $i -lt 600 ]; do echo \"up=$(cut -d' ' -f1 /proc/uptime) i=$i\"; i=$((i+1)); sleep 0.1; done"],
                Labels = new Dictionary<string, string>(TestResources.Labels(labels)),
            });
            await runtime.StartAsync(containerId);

            // As the container's object would on its start.
            host.Services.GetRequiredService<ContainerStartEvents>().OnStateChanged(new ContainerStateChange(
                app, node, ClassName, objectId, null, containerId, ContainerObjectState.Stopped, ContainerObjectState.Running, null, null, null,
                DateTimeOffset.UtcNow, null, 0));

            var delays = new List<double>();
            while (delays.Count < 15)
            {
                var record = await sse.NextMatchingAsync(r => r.GetProperty("message").GetString()!.StartsWith("up=", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
                var arrived = Uptime();
                var written = double.Parse(record.GetProperty("message").GetString()!.Split(' ')[0][3..], CultureInfo.InvariantCulture);
                Assert.Equal(("stdout", app, ClassName, objectId, containerId[..12]),
                    (record.GetProperty("source").GetString(), record.GetProperty("app").GetString(), record.GetProperty("class").GetString(),
                     record.GetProperty("object").GetString(), record.GetProperty("container").GetString()));

                // Lines written before the follower caught up (the first ones) say nothing about the live delay.
                if (record.GetProperty("message").GetString()!.Contains(" i=", StringComparison.Ordinal) && !record.GetProperty("message").GetString()!.EndsWith(" i=0", StringComparison.Ordinal))
                {
                    delays.Add(arrived - written);
                }
            }

            // Live, not replayed after the end: the container (60 s of output) still runs once 15 lines arrived. How soon a
            // line arrives is a speed, never asserted by a test (CI's load decides it); the delays go to the test's output.
            Assert.Equal(EngineContainerState.Running, (await runtime.InspectAsync(containerId))!.State);
            delays.Sort();
            output.WriteLine($"delays, s: {string.Join(", ", delays.Select(d => d.ToString("0.000", CultureInfo.InvariantCulture)))}");
        }
        finally
        {
            if (containerId is not null)
            {
                await runtime.RemoveAsync(containerId);
            }
        }
    }
}
