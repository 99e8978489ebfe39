using System.Net;
using System.Net.Sockets;
using Berth.Containers;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway.Tests;

/// <summary>A container class for the isolation tests: the test app on 8080.</summary>
public sealed class IsolatedWeb : Container
{
    public IsolatedWeb() => DefaultPort = 8080;
}

/// <summary>A second class, so "another class" is a different class on the same app network.</summary>
public sealed class IsolatedOther : Container
{
    public IsolatedOther() => DefaultPort = 8080;
}

/// <summary>
/// Ingress only through the gateway (issue 12 item 1), through the whole platform: two apps (two test hosts, so two
/// Berth networks), two classes; every container answers through its gateway, and none can open a TCP connection to
/// another (same class, another class, another app) or to any address of the host.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class IsolationTests(GatewayFixture fixture)
{
    private Task<BerthTestHost> StartAsync() =>
        BerthTestHost.StartAsync(
            berth =>
            {
                berth.AddContainer<IsolatedWeb>(o => o.Image = fixture.Images.App);
                berth.AddContainer<IsolatedOther>(o => o.Image = fixture.Images.App);
            },
            app =>
            {
                app.MapContainer<IsolatedWeb>("/w/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true);
                app.MapContainer<IsolatedOther>("/o/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true);
            });

    [Fact]
    public async Task Gateway_TwoAppsTwoClasses_ReachesEveryContainerWhileNoneReachesAnotherOrTheHost()
    {
        await using var first = await StartAsync();
        await using var second = await StartAsync();

        var answers = await Task.WhenAll(
            first.Client.GetAsync("/w/a/hello"), first.Client.GetAsync("/w/b/hello"), first.Client.GetAsync("/o/c/hello"), second.Client.GetAsync("/w/d/hello"));

        Assert.All(answers, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var a = await ContainerOfAsync(first, nameof(IsolatedWeb), "a");
        var sameClass = await ContainerOfAsync(first, nameof(IsolatedWeb), "b");
        var otherClass = await ContainerOfAsync(first, nameof(IsolatedOther), "c");
        var otherApp = await ContainerOfAsync(second, nameof(IsolatedWeb), "d");
        Assert.Empty(a.Ports);

        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var gateway = string.Join('.', a.IpAddress!.Split('.')[..3]) + ".1";
        var exits = await Task.WhenAll(
            ExecAsync(first, a.Id, $"nc -w 2 {sameClass.IpAddress} 8080 </dev/null"),
            ExecAsync(first, a.Id, $"nc -w 2 {otherClass.IpAddress} 8080 </dev/null"),
            ExecAsync(first, a.Id, $"nc -w 2 {otherApp.IpAddress} 8080 </dev/null"),
            ExecAsync(first, a.Id, $"nc -w 2 {gateway} {port} </dev/null"),
            ExecAsync(first, a.Id, $"nc -w 2 172.17.0.1 {port} </dev/null"));
        // The probe's control: the same connect to the container's own port succeeds.
        var self = await ExecAsync(first, a.Id, "nc -w 2 127.0.0.1 8080 </dev/null");

        Assert.Equal(0, self);
        Assert.DoesNotContain(0, exits);
        Assert.False(listener.Pending(), "a container reached a listener on the host");
        // Still served through the gateway after the probes.
        using var again = await first.Client.GetAsync("/w/b/hello");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        foreach (var response in answers)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Container_NoNetRaw_CannotForgeFramesToPoseAsANeighbour()
    {
        await using var host = await StartAsync();
        using var answer = await host.Client.GetAsync("/w/raw/hello");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var container = await ContainerOfAsync(host, nameof(IsolatedWeb), "raw");

        // CAP_NET_RAW is bit 13 of the effective set: without it no ARP/IP spoofing of another container on the bridge
        // (the egress proxy and the host firewall identify containers by source address) and no raw IPv6.
        var hasNetRaw = await ExecAsync(host, container.Id, "cap=$(awk '/^CapEff/{print $2}' /proc/self/status); [ $(( 0x$cap & 0x2000 )) -ne 0 ]");
        var ping = await ExecAsync(host, container.Id, "ping -c 1 -W 1 127.0.0.1");
        // The control: the container's root still has Docker's other defaults, such as CAP_CHOWN (bit 0).
        var hasChown = await ExecAsync(host, container.Id, "cap=$(awk '/^CapEff/{print $2}' /proc/self/status); [ $(( 0x$cap & 0x1 )) -ne 0 ]");

        Assert.NotEqual(0, hasNetRaw);
        Assert.NotEqual(0, ping);
        Assert.Equal(0, hasChown);
    }

    private static async Task<ContainerInspection> ContainerOfAsync(BerthTestHost host, string className, string name)
    {
        var objectId = className == nameof(IsolatedWeb)
            ? host.Services.GetRequiredService<ContainerNamespace<IsolatedWeb>>().IdFromName(name).ToString()
            : host.Services.GetRequiredService<ContainerNamespace<IsolatedOther>>().IdFromName(name).ToString();
        var summary = Assert.Single(await host.ContainersAsync(objectId));
        return await host.Runtime.InspectAsync(summary.Id) ?? throw new InvalidOperationException("container vanished");
    }

    private static async Task<int> ExecAsync(BerthTestHost host, string id, string script)
    {
        using var output = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await host.Runtime.ExecAsync(id, new ExecSpec { Command = ["/bin/sh", "-c", script] }, new ExecStreams(Stdout: output, Stderr: output), timeout.Token);
    }
}
