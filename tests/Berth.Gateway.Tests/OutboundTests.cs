using System.Globalization;
using Berth.Containers;
using Berth.Egress;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Gateway.Tests;

/// <summary>Typed calls into <see cref="OutboundSandbox"/>: its storage and its egress counters.</summary>
public interface IOutboundSandbox : IContainer
{
    Task PutAsync(string key, string value);

    Task<string?> GetAsync(string key);

    Task<long[]> EgressBytesAsync();
}

/// <summary>
/// A sandbox with the internet off whose object answers the container's outbound HTTP (issue 12 item 2): <c>api.internal</c>
/// from its storage, <c>boom.internal</c> by throwing, <c>bulk.internal</c> with 50 MB each way.
/// </summary>
public sealed class OutboundSandbox : Container, IOutboundSandbox
{
    public const long Fifty = 50L * 1024 * 1024;

    public OutboundSandbox()
    {
        DefaultPort = 8080;
        EnableInternet = false;
        OutboundByHost["api.internal"] = async (request, response, ct) =>
        {
            var key = request.PathAndQuery.TrimStart('/');
            if (Context.Storage.Get<string>(key) is not { } value)
            {
                response.StatusCode = 404;
                await response.WriteAsync($"no {key}\n", ct);
                return;
            }

            response.SetHeader("Content-Type", "text/plain; charset=utf-8");
            await response.WriteAsync(value, ct);
        };
        OutboundByHost["boom.internal"] = (_, _, _) => throw new InvalidOperationException("the handler failed on purpose");
        OutboundByHost["bulk.internal"] = async (request, response, ct) =>
        {
            var buffer = new byte[64 * 1024];
            if (request.Method == "POST")
            {
                long received = 0;
                int read;
                while ((read = await request.Body.ReadAsync(buffer, ct)) > 0)
                {
                    received += read;
                }

                var answer = received.ToString(CultureInfo.InvariantCulture) + "\n";
                Context.Storage.Put("uploaded", answer.Trim());
                response.ContentLength = answer.Length;
                await response.WriteAsync(answer, ct);
                return;
            }

            response.ContentLength = Fifty;
            for (long sent = 0; sent < Fifty; sent += buffer.Length)
            {
                await response.WriteAsync(buffer, ct);
            }
        };
    }

    public Task PutAsync(string key, string value)
    {
        Context.Storage.Put(key, value);
        return Task.CompletedTask;
    }

    public Task<string?> GetAsync(string key) => Task.FromResult(Context.Storage.Get<string>(key));

    public Task<long[]> EgressBytesAsync() => Task.FromResult(new[] { EgressBytesOut, EgressBytesIn });
}

/// <summary>
/// Outbound handlers through the whole platform on the real engine and firewall: the container's plain <c>wget</c> is
/// answered by C# in its object, with <c>HTTP_PROXY</c> and without (the hosts file and the redirect); with the internet
/// off nothing else gets out (a stand-in server on its own plain network, which the host reaches, is not reached).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class OutboundTests(GatewayFixture fixture)
{
    private const string NoProxy = "env -u http_proxy -u HTTP_PROXY -u https_proxy -u HTTPS_PROXY ";

    private Task<BerthTestHost> StartAsync(LogRecorder recorder) =>
        BerthTestHost.StartAsync(
            new BerthTestHostOptions { ConfigureHost = builder => builder.Logging.AddProvider(recorder) },
            berth => berth.AddContainer<OutboundSandbox>(o => o.Image = fixture.Images.App),
            _ => { },
            CancellationToken.None);

    private static async Task<IOutboundSandbox> StartedAsync(BerthTestHost host, string name)
    {
        var ns = host.Services.GetRequiredService<ContainerNamespace<OutboundSandbox>>();
        var sandbox = ns.Get<IOutboundSandbox>(ns.IdFromName(name));
        await sandbox.StartAndWaitForPortsAsync();
        return sandbox;
    }

    [Fact]
    public async Task OutboundByHost_InternetOff_WgetIsAnsweredFromTheObjectsStorage_AndNothingElseGetsOut()
    {
        var recorder = new LogRecorder();
        await using var host = await StartAsync(recorder);
        var sandbox = await StartedAsync(host, "kv");
        await sandbox.PutAsync("kv/greeting", "hello from storage\n");
        var (standIn, cleanup) = await StandInAsync(host);
        try
        {
            // Through HTTP_PROXY (set in the container), and without it: the hosts file points api.internal at the proxy's
            // address, whose port 80 the firewall redirects to the proxy.
            var proxied = await sandbox.ExecAsync(["sh", "-c", "wget -q -O - http://api.internal/kv/greeting"]);
            var direct = await sandbox.ExecAsync(["sh", "-c", NoProxy + "wget -q -O - http://api.internal/kv/greeting"]);
            var missing = await sandbox.ExecAsync(["sh", "-c", "wget -O - http://api.internal/kv/absent 2>&1"]);
            var hosts = await sandbox.ExecAsync(["cat", "/etc/hosts"]);

            Assert.Equal("hello from storage\n", proxied.Stdout);
            Assert.Equal("hello from storage\n", direct.Stdout);
            Assert.Contains("404", missing.Stdout, StringComparison.Ordinal);
            Assert.Contains("api.internal", hosts.Stdout, StringComparison.Ordinal);

            // The stand-in answers anyone with a route (the host has one); the container has none but the proxy's.
            using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
            {
                Assert.Equal("hello\n", await http.GetStringAsync(new Uri($"http://{standIn}:8081/")));
            }

            var viaProxy = await sandbox.ExecAsync(["sh", "-c", $"wget -O - http://{standIn}/ 2>&1"]);
            var redirected = await sandbox.ExecAsync(["sh", "-c", NoProxy + $"wget -O - http://{standIn}/ 2>&1"]);
            var otherPort = await sandbox.ExecAsync(["sh", "-c", $"nc -w 3 {standIn} 8081 </dev/null && echo CONNECTED || echo REFUSED"]);
            Assert.Contains("403", viaProxy.Stdout, StringComparison.Ordinal);
            Assert.Contains("403", redirected.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("CONNECTED", otherPort.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("hello", viaProxy.Stdout + redirected.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            await cleanup();
        }
    }

    [Fact]
    public async Task OutboundHandlerThrows_ContainerGets502JsonBody_ObjectLogSaysWhichHost()
    {
        var recorder = new LogRecorder();
        await using var host = await StartAsync(recorder);
        var sandbox = await StartedAsync(host, "boom");

        // A raw request to the proxy (HTTP_PROXY names it) shows the status line and the JSON body.
        var raw = await sandbox.ExecAsync(["sh", "-c",
            "p=${HTTP_PROXY#http://}; printf 'GET http://boom.internal/x HTTP/1.1\\r\\nHost: boom.internal\\r\\n\\r\\n' | nc -w 10 ${p%:*} ${p##*:}"]);

        Assert.StartsWith("HTTP/1.1 502 ", raw.Stdout, StringComparison.Ordinal);
        Assert.Contains($"X-Berth-Error: {OutboundErrorCodes.HandlerFailed}", raw.Stdout, StringComparison.Ordinal);
        Assert.Contains($"\"error\":\"{OutboundErrorCodes.HandlerFailed}\"", raw.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("on purpose", raw.Stdout, StringComparison.Ordinal);
        var logged = Assert.Single(recorder.Records, r => r.EventId.Name == "OutboundHandlerFailed");
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Contains("OutboundSandbox", logged.Message, StringComparison.Ordinal);
        Assert.Contains("boom.internal", logged.Message, StringComparison.Ordinal);

        // The object still serves its other calls.
        Assert.Equal(ContainerObjectState.Healthy, (await sandbox.GetStateAsync()).State);
    }

    [Fact]
    public async Task OutboundHandler_Streams50MbEachWay_CountedInTheContainersEgressBytes()
    {
        var recorder = new LogRecorder();
        await using var host = await StartAsync(recorder);
        var sandbox = await StartedAsync(host, "bulk");
        var fifty = OutboundSandbox.Fifty.ToString(CultureInfo.InvariantCulture);

        var down = await sandbox.ExecAsync(["sh", "-c", "wget -q -O - http://bulk.internal/down | wc -c"]);
        Assert.Equal(fifty, down.Stdout.Trim());

        // busybox wget cannot stream an upload: a raw request with a declared length, the body piped from dd.
        var up = await sandbox.ExecAsync(["sh", "-c",
            "p=${HTTP_PROXY#http://}; { printf 'POST http://bulk.internal/up HTTP/1.1\\r\\nHost: bulk.internal\\r\\nContent-Length: " + fifty + "\\r\\n\\r\\n'; " +
            "dd if=/dev/zero bs=1048576 count=50 2>/dev/null; sleep 5; } | nc ${p%:*} ${p##*:} | tail -1"]);
        Assert.Equal(fifty, up.Stdout.Trim());
        Assert.Equal(fifty, await sandbox.GetAsync("uploaded"));

        var bytes = await sandbox.EgressBytesAsync();
        Assert.True(bytes[0] >= OutboundSandbox.Fifty, $"out {bytes[0]}");
        Assert.True(bytes[1] >= OutboundSandbox.Fifty, $"in {bytes[1]}");
    }

    /// <summary>A stand-in "internet": busybox httpd on 80 and 8081 on its own plain test network.</summary>
    private async Task<(string Address, Func<Task> Cleanup)> StandInAsync(BerthTestHost host)
    {
        var runtime = host.Runtime;
        var network = await runtime.EnsureNetworkAsync(new NetworkSpec { Name = $"berth-test-inet-{Guid.NewGuid():N}"[..30], Labels = TestResources.Labels() });
        var id = await runtime.CreateAsync(new ContainerSpec
        {
            Name = $"berth-test-standin-{Guid.NewGuid():N}",
            Image = fixture.Images.Base,
            Command = ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && httpd -p 80 -h /www && httpd -p 8081 -h /www && echo ready && sleep 3600"],
            Labels = TestResources.Labels(),
            Network = network,
        });
        await runtime.StartAsync(id);
        await ContainerWaits.WaitForLogAsync(runtime, id, "ready", TimeSpan.FromSeconds(60));
        var address = (await runtime.InspectAsync(id))!.IpAddress!;
        return (address, async () =>
        {
            await runtime.RemoveAsync(id);
            await runtime.RemoveNetworkAsync(network);
        });
    }
}
