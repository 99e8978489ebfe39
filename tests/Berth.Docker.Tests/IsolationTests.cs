using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Berth.Runtime;
using Berth.Testing;

namespace Berth.Docker.Tests;

/// <summary>
/// Ingress only through the host (issue 12 item 1), on the real engine: a container cannot open a TCP connection to
/// another container (same network, another network, another app's), nor to any address of the host, while the host
/// (where the gateway runs) reaches every container. Each probe is a busybox <c>nc</c> connect with a 2 s timeout
/// inside the container; positive controls prove the probes do detect a connection when one is allowed.
/// </summary>
public class IsolationTests(EngineFixture fixture) : EngineTest(fixture)
{
    private const int WebPort = 8080;

    [Fact]
    public async Task EnsureNetwork_BerthNetwork_NamesItsBridgeBbHash()
    {
        var name = UniqueName("net");

        await EnsureNetworkAsync(name);

        var bridge = BerthNames.BridgeInterface(name);
        Assert.Matches("^bb-[0-9a-f]{8}$", bridge);
        Assert.True(Directory.Exists($"/sys/class/net/{bridge}"), $"no host interface {bridge} for network {name}");
    }

    [Fact]
    public async Task Connect_ContainerToContainerOnSameNetwork_IsRefusedWhileTheHostReachesBoth()
    {
        var network = await EnsureNetworkAsync(UniqueName("net"));
        var (_, webIp) = await RunWebAsync(network);
        var (clientId, clientIp) = await RunWebAsync(network);

        Assert.False(await CanFetchAsync(clientId, webIp), "a container reached another container on its own network");
        Assert.True(await HostCanFetchAsync(webIp), "the host (gateway) cannot reach the container");
        Assert.True(await HostCanFetchAsync(clientIp), "the host (gateway) cannot reach the other container");
    }

    [Fact]
    public async Task Connect_ContainerToContainerOfAnotherAppsNetwork_IsRefused()
    {
        var ours = await EnsureNetworkAsync(UniqueName("net"));
        var theirs = await EnsureNetworkAsync(UniqueName("net"));
        var internalNetwork = await EnsureNetworkAsync(UniqueName("net"), isInternal: true);
        var (_, theirIp) = await RunWebAsync(theirs);
        var (_, internalIp) = await RunWebAsync(internalNetwork);
        var (clientId, _) = await RunWebAsync(ours);

        var reached = await Task.WhenAll(CanFetchAsync(clientId, theirIp), CanFetchAsync(clientId, internalIp));

        Assert.Equal([false, false], reached);
        Assert.True(await HostCanFetchAsync(theirIp));
        Assert.True(await HostCanFetchAsync(internalIp));
    }

    [Fact]
    public async Task Connect_OnNetworkWithInterContainerCommunication_Succeeds()
    {
        // The control of the probes above: the same probe does see a connection when the network allows one.
        var network = await EnsureNetworkAsync(UniqueName("net"), icc: true);
        var (_, webIp) = await RunWebAsync(network);
        var (clientId, _) = await RunWebAsync(network);

        Assert.True(await CanFetchAsync(clientId, webIp), "the probe did not reach a container on a network that allows it");
    }

    [Fact]
    public async Task Connect_ContainerToAnyHostAddress_IsDroppedUnlessTheAllowChainAcceptsIt()
    {
        var network = await EnsureNetworkAsync(UniqueName("net"));
        var (clientId, clientIp) = await RunWebAsync(network);
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = 0;
        using var stop = new CancellationTokenSource();
        var acceptLoop = AcceptAllAsync(listener, () => Interlocked.Increment(ref accepted), stop.Token);
        // Every IPv4 address of the host: its own bridge's gateway, docker0, other apps' bridges, the uplink.
        var hostAddresses = HostIPv4Addresses();
        Assert.Contains(GatewayOf(clientIp), hostAddresses);
        Assert.True(hostAddresses.Count >= 2, $"only {string.Join(", ", hostAddresses)}");

        var probes = await Task.WhenAll(hostAddresses.Select(a => ProbeTcpAsync(clientId, a, port)));

        Assert.Equal(0, Volatile.Read(ref accepted));
        Assert.DoesNotContain(true, probes);

        // Control: a rule in BERTH-HOST-ALLOW (where the egress proxy's ports go) lets the same probe through.
        string[] rule = ["-p", "tcp", "--dport", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-j", "ACCEPT"];
        Iptables(["-w", "10", "-A", HostFirewall.AllowChain, .. rule]);
        try
        {
            await ProbeTcpAsync(clientId, GatewayOf(clientIp), port);
            Assert.True(Volatile.Read(ref accepted) > 0, "the allow chain's rule did not let the container reach the host listener");
        }
        finally
        {
            Iptables(["-w", "10", "-D", HostFirewall.AllowChain, .. rule]);
            await stop.CancelAsync();
            listener.Stop();
            await acceptLoop;
        }
    }

    [Fact]
    public async Task Create_PortsWithoutPublishPorts_PublishesNothingOnTheHost()
    {
        var id = await RunAsync(AppSpec() with { PublishPorts = false });
        await ContainerWaits.WaitForLogAsync(Runtime, id, "listening on", Generous);

        var status = await Runtime.InspectAsync(id);

        Assert.Empty(status!.Ports);
    }

    private async Task<string> EnsureNetworkAsync(string name, bool isInternal = false, bool icc = false)
    {
        var id = await Runtime.EnsureNetworkAsync(new NetworkSpec { Name = name, Internal = isInternal, InterContainerCommunication = icc, Labels = TestResources.Labels() });
        TrackNetwork(id);
        return name;
    }

    /// <summary>A busybox web server on <see cref="WebPort"/>; returns its ID and address once it answers the host.</summary>
    private async Task<(string Id, string Ip)> RunWebAsync(string network)
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/busybox", "httpd", "-f", "-p", WebPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-h", "/etc")
            with { Network = network, InstanceType = InstanceType.Lite });
        var ip = (await Runtime.InspectAsync(id))?.IpAddress ?? throw new InvalidOperationException("no address");
        using var answered = await ContainerWaits.WaitForHttpAsync(new Uri($"http://{ip}:{WebPort}/hostname"), Generous);
        return (id, ip);
    }

    private async Task<bool> CanFetchAsync(string fromId, string ip) =>
        await ExecAsync(fromId, $"nc -w 2 {ip} {WebPort} </dev/null") == 0;

    private async Task<bool> ProbeTcpAsync(string fromId, string ip, int port) =>
        await ExecAsync(fromId, $"nc -w 2 {ip} {port} </dev/null") == 0;

    private async Task<int> ExecAsync(string id, string script)
    {
        using var output = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await Runtime.ExecAsync(id, new ExecSpec { Command = ["/bin/sh", "-c", script] }, new ExecStreams(Stdout: output, Stderr: output), timeout.Token);
    }

    private static async Task<bool> HostCanFetchAsync(string ip)
    {
        using var response = await Http.GetAsync(new Uri($"http://{ip}:{WebPort}/hostname"));
        return response.IsSuccessStatusCode;
    }

    private static async Task AcceptAllAsync(TcpListener listener, Action onAccept, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                using var client = await listener.AcceptTcpClientAsync(cancellationToken);
                onAccept();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private static string GatewayOf(string containerIp) => string.Join('.', containerIp.Split('.')[..3]) + ".1";

    private static List<string> HostIPv4Addresses() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Where(a => a.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a.Address))
            .Select(a => a.Address.ToString())
            .Distinct()
            .ToList();

    private static void Iptables(string[] arguments)
    {
        var start = new ProcessStartInfo("iptables") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"iptables {string.Join(' ', arguments)}: {error}");
    }
}
