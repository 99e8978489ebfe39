using System.Globalization;
using System.Text;
using Berth.Runtime;
using Berth.Testing;

namespace Berth.Docker.Tests;

/// <summary>
/// gVisor (issue 12 item 3) on the real engine: a container created with runtime <c>runsc</c> runs on gVisor's kernel,
/// serves HTTP over a Berth bridge, and keeps the bridge's isolation (runsc runs with <c>--network=host</c>: the
/// container's own Docker network namespace, so ICC off and the host firewall apply unchanged).
/// </summary>
public class GvisorTests(EngineFixture fixture) : EngineTest(fixture)
{
    private const int WebPort = 8080;

    [Fact]
    public async Task Run_OnRunsc_RunsOnGvisorsKernelAndServesOverABerthBridge()
    {
        await Gvisor.EnsureRegisteredAsync();
        var network = await EnsureNetworkAsync();
        var (id, ip) = await RunWebAsync(network, Gvisor.Runtime);

        var (_, kernelLog) = await ExecAsync(id, "dmesg 2>&1 | head -n 1; uname -r");
        using var response = await Http.GetAsync(new Uri($"http://{ip}:{WebPort}/hostname"));

        Assert.Contains("gVisor", kernelLog, StringComparison.Ordinal);
        Assert.True(response.IsSuccessStatusCode, $"status {response.StatusCode}");
        Assert.Equal(Gvisor.Runtime, (await Runtime.InspectAsync(id))!.Runtime);
    }

    [Fact]
    public async Task Connect_FromRunscContainerToNeighbourOrHost_IsRefused()
    {
        await Gvisor.EnsureRegisteredAsync();
        var network = await EnsureNetworkAsync();
        var (_, neighbourIp) = await RunWebAsync(network, runtime: null);
        var (id, ip) = await RunWebAsync(network, Gvisor.Runtime);
        var gateway = string.Join('.', ip.Split('.')[..3]) + ".1";
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;

        var (neighbourExit, _) = await ExecAsync(id, $"nc -w 2 {neighbourIp} {WebPort} </dev/null");
        var (hostExit, _) = await ExecAsync(id, $"nc -w 2 {gateway} {port} </dev/null");

        var (selfExit, _) = await ExecAsync(id, $"nc -w 2 127.0.0.1 {WebPort} </dev/null");

        Assert.Equal(0, selfExit);
        Assert.NotEqual(0, neighbourExit);
        Assert.NotEqual(0, hostExit);
        Assert.False(listener.Pending(), "the runsc container reached a host listener");
        using var fromHost = await Http.GetAsync(new Uri($"http://{neighbourIp}:{WebPort}/hostname"));
        Assert.True(fromHost.IsSuccessStatusCode);
    }

    private async Task<string> EnsureNetworkAsync()
    {
        var name = UniqueName("net");
        TrackNetwork(await Runtime.EnsureNetworkAsync(new NetworkSpec { Name = name, Labels = TestResources.Labels() }));
        return name;
    }

    private async Task<(string Id, string Ip)> RunWebAsync(string network, string? runtime)
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/busybox", "httpd", "-f", "-p", WebPort.ToString(CultureInfo.InvariantCulture), "-h", "/etc")
            with { Network = network, Runtime = runtime, InstanceType = InstanceType.Lite });
        var ip = (await Runtime.InspectAsync(id))?.IpAddress ?? throw new InvalidOperationException("no address");
        using var answered = await ContainerWaits.WaitForHttpAsync(new Uri($"http://{ip}:{WebPort}/hostname"), Generous);
        return (id, ip);
    }

    private async Task<(int ExitCode, string Output)> ExecAsync(string id, string script)
    {
        using var output = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var exit = await Runtime.ExecAsync(id, new ExecSpec { Command = ["/bin/sh", "-c", script] }, new ExecStreams(Stdout: output, Stderr: output), timeout.Token);
        return (exit, Encoding.UTF8.GetString(output.ToArray()));
    }
}
