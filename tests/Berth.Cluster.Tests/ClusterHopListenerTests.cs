using System.Net;
using System.Net.Sockets;
using Berth.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace Berth.Cluster.Tests;

/// <summary>The hop listener in a real host: a hop port it cannot bind fails the start with one line naming <c>Berth:Cluster:HopUrl</c>.</summary>
public sealed class ClusterHopListenerTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "berth-hop-listener", Guid.NewGuid().ToString("N"));

    public void Dispose() => TempDirectory.TryDelete(_directory);

    [Fact]
    public async Task StartAsync_HopPortInUse_FailsWithOneLineNamingHopUrlAndThePort()
    {
        using var ca = TestCertificates.CreateAuthority(_directory, "cluster");
        var (certificate, key) = ca.IssuePem("n1");
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var settings = BerthClusterSettings.Read(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Forwarding"] = "node",
            ["AdvertiseAddress"] = "127.0.0.1",
            ["HopUrl"] = $"https://127.0.0.1:{port}",
            ["Tls:CertificatePath"] = certificate,
            ["Tls:KeyPath"] = key,
            ["Tls:CaPath"] = ca.CaPath,
        }).Build());
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        ClusterHopListener.Register(builder.Services, settings);
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<BerthStartupException>(() => app.StartAsync());

        Assert.Equal(
            $"Berth cannot listen on its hop port {port} at 127.0.0.1 (it is in use). Set Berth:Cluster:HopUrl (environment variable Berth__Cluster__HopUrl) to a URL with a free port.",
            error.Message);
    }
}
