using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;

namespace Berth.Cluster.Tests;

/// <summary>
/// docs/cluster.md's "TLS between nodes" works as written: scripts/cluster-certs.sh makes certificates with openssl that the
/// node loads and trusts, and the appsettings example (Docs/appsettings.tls.json, the block's snippet) has the keys the node reads.
/// </summary>
public sealed class ClusterTlsDocsTests : IDisposable
{
    private const string DocsDirectory = "/etc/berth/tls";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "berth-tls-docs", Guid.NewGuid().ToString("N"));

    public void Dispose() => TempDirectory.TryDelete(_directory);

    [Fact]
    public async Task DocsExample_CertificatesFromTheScript_NodeLoadsThemAndTrustsAnotherNode()
    {
        var root = RepositoryRoot.Find();
        await RunAsync("bash", Path.Combine(root, "scripts", "cluster-certs.sh"), _directory, "node-1=10.0.0.5", "node-2");

        // The example's paths, moved to where the script wrote the files; berth.jsonc's part (provider, connection, forwarding) beside it.
        var example = await File.ReadAllTextAsync(Path.Combine(root, "tests", "Berth.Cluster.Tests", "Docs", "appsettings.tls.json"));
        using var json = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(example.Replace(DocsDirectory, _directory, StringComparison.Ordinal)));
        var configuration = new ConfigurationBuilder()
            .AddJsonStream(json)
            .AddInMemoryCollection([KeyValuePair.Create("Berth:Cluster:Provider", (string?)"postgres"), KeyValuePair.Create("Berth:Cluster:Connection", (string?)"Host=db;Username=berth"),
                KeyValuePair.Create("Berth:Cluster:Forwarding", (string?)"node")])
            .Build();

        var settings = BerthClusterSettings.Read(configuration.GetSection("Berth:Cluster"));

        var tls = Assert.IsType<ClusterTlsSettings>(settings.Tls);
        Assert.Equal(new Uri("https://10.0.0.5:8443"), settings.HopUrl);
        Assert.Equal("CN=node-1", tls.Certificate.Subject);
        Assert.True(tls.Certificate.HasPrivateKey);
        using var peer = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(_directory, "node-2.pem")));
        Assert.True(tls.IsTrusted(peer, null, ClusterPeerRole.Client), "node-1 must take node-2's certificate from the same CA from a connecting peer");
        Assert.True(tls.IsTrusted(peer, null, ClusterPeerRole.Server), "node-1 must take node-2's certificate from the same CA from a server");
    }

    private static async Task RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await output}{await error}");
    }
}
