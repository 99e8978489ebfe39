using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Berth.Docker;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Berth.Egress.Tests;

/// <summary>
/// A filtered Berth-style network (internal bridge <c>bb-…</c>) with the node's egress path on it, a client container on
/// it, and a stand-in "internet": an HTTP server on its own plain Docker network (not a Berth network) that the host
/// routes to. Names resolve through a stub the test controls (the proxy) and the client's hosts file; no outside address.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes through IAsyncLifetime.DisposeAsync.")]
public sealed class EgressEngineFixture : IAsyncLifetime
{
    private readonly List<string> _containers = [];
    private readonly List<string> _networks = [];

    public DockerContainerRuntime Runtime { get; } = new(new DockerRuntimeOptions());

    public EgressNode Node { get; private set; } = null!;

    public IPEndPoint Proxy { get; private set; } = null!;

    public string Bridge { get; private set; } = null!;

    public IPAddress StandIn { get; private set; } = null!;

    /// <summary>The proxy's resolver stub: add a name before a test uses it (tests run one at a time in this class).</summary>
    public Dictionary<string, IPAddress> Names { get; private set; } = null!;

    public string StandInId { get; private set; } = null!;

    public string ClientId { get; private set; } = null!;

    public IPAddress ClientAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Runtime.PingAsync();
        if (await Runtime.InspectImageAsync(TestImages.BaseImage) is null)
        {
            await TestImages.EnsureBuiltAsync(Runtime);
        }

        var suffix = Guid.NewGuid().ToString("N")[..10];
        var filtered = $"berth-test-egress-{suffix}";
        Bridge = BerthNames.BridgeInterface(filtered);
        _networks.Add(await Runtime.EnsureNetworkAsync(new NetworkSpec
        {
            Name = filtered,
            Internal = true,
            Labels = TestResources.Labels(),
            Options = new Dictionary<string, string> { ["com.docker.network.bridge.name"] = Bridge },
        }));
        var internet = $"berth-test-inet-{suffix}";
        _networks.Add(await Runtime.EnsureNetworkAsync(new NetworkSpec { Name = internet, Labels = TestResources.Labels() }));

        // The stand-in internet: HTTP on 80 and 8081 (a 50 MB file, a CGI that counts a request body), a raw listener on
        // 443 that records what it receives (a ClientHello carries its SNI in clear text).
        const string standInScript =
            "mkdir -p /www/cgi-bin && echo hello > /www/index.html && dd if=/dev/zero of=/www/big bs=1048576 count=50 2>/dev/null && " +
            "printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\nwc -c\\n' > /www/cgi-bin/count && chmod +x /www/cgi-bin/count && " +
            "httpd -p 80 -h /www && httpd -p 8081 -h /www && " +
            "(while true; do nc -l -p 443 >> /tmp/tls.log; done) & echo ready; sleep 3600";
        StandInId = await RunAsync(internet, ["sh", "-c", standInScript]);
        await ContainerWaits.WaitForLogAsync(Runtime, StandInId, "ready", TimeSpan.FromSeconds(60));
        StandIn = IPAddress.Parse((await Runtime.InspectAsync(StandInId))!.IpAddress!);

        var names = new Dictionary<string, IPAddress>(StringComparer.Ordinal)
        {
            ["allowed.test"] = StandIn,
            ["other.test"] = StandIn,
            ["secret.test"] = StandIn,
        };
        Names = names;

        // The stand-in internet is a private address on a host bridge: reachable only because the test lists it.
        var options = new EgressOptions();
        options.AllowedPrivateNetworks.Add($"{StandIn}/32");
        Node = new EgressNode(new EgressClients(), new IptablesEgressFirewall(NullLogger<IptablesEgressFirewall>.Instance), Options.Create(options),
            TimeProvider.System, NullLoggerFactory.Instance,
            (host, _) => names.TryGetValue(host, out var address) ? Task.FromResult(new[] { address }) : throw new SocketException((int)SocketError.HostNotFound));
        Proxy = await Node.EnsureAsync(Bridge, transparent: true, CancellationToken.None);

        ClientId = await RunAsync(filtered, ["sleep", "3600"]);
        ClientAddress = IPAddress.Parse((await Runtime.InspectAsync(ClientId))!.IpAddress!);
    }

    private async Task<string> RunAsync(string network, string[] command)
    {
        var id = await Runtime.CreateAsync(new ContainerSpec
        {
            Name = $"berth-test-egress-{Guid.NewGuid():N}",
            Image = TestImages.BaseImage,
            Command = command,
            Labels = TestResources.Labels(),
            InstanceType = InstanceType.Basic,
            Network = network,
        });
        _containers.Add(id);
        await Runtime.StartAsync(id);
        return id;
    }

    /// <summary>Runs a shell script in the client container; returns its exit code and its output (stdout and stderr).</summary>
    public async Task<(int ExitCode, string Output)> ClientAsync(string script)
    {
        using var output = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var code = await Runtime.ExecAsync(ClientId, new ExecSpec { Command = ["sh", "-c", script] }, new ExecStreams(null, output, output), timeout.Token);
        return (code, System.Text.Encoding.UTF8.GetString(output.ToArray()));
    }

    /// <summary>Runs a command in the stand-in and returns its output.</summary>
    public async Task<string> StandInAsync(string script)
    {
        using var output = new MemoryStream();
        await Runtime.ExecAsync(StandInId, new ExecSpec { Command = ["sh", "-c", script] }, new ExecStreams(null, output, output));
        return System.Text.Encoding.Latin1.GetString(output.ToArray());
    }

    /// <summary>A UDP socket bound inside the stand-in's network namespace (it has no UDP server of its own).</summary>
    public async Task<UdpClient> UdpInStandInAsync(int port)
    {
        var pid = (await RunProcessAsync("docker", $"inspect -f {{{{.State.Pid}}}} {StandInId}")).Trim();
        UdpClient? client = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var own = File.OpenHandle("/proc/thread-self/ns/net");
                using var target = File.OpenHandle($"/proc/{pid}/ns/net");
                Check(SetNs((int)target.DangerousGetHandle(), CloneNewNet), "setns to the stand-in");
                try
                {
                    client = new UdpClient(new IPEndPoint(IPAddress.Any, port));
                }
                finally
                {
                    Check(SetNs((int)own.DangerousGetHandle(), CloneNewNet), "setns back");
                }
            }
            catch (Exception ex)
            {
                error = ex;
            }
        });
        thread.Start();
        thread.Join();
        return error is null ? client! : throw new InvalidOperationException("Could not open a UDP socket in the stand-in.", error);
    }

    private const int CloneNewNet = 0x40000000;

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SetNs(int fd, int nstype);

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"{what} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private static async Task<string> RunProcessAsync(string file, string arguments)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

    public async Task DisposeAsync()
    {
        if (Node is not null)
        {
            await Node.DisposeAsync();
        }

        foreach (var id in _containers)
        {
            try
            {
                await Runtime.RemoveAsync(id);
            }
            catch (ContainerRuntimeException)
            {
            }
        }

        foreach (var id in _networks)
        {
            try
            {
                await Runtime.RemoveNetworkAsync(id);
            }
            catch (ContainerRuntimeException)
            {
            }
        }

        Runtime.Dispose();
    }
}
