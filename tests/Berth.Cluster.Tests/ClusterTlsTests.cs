using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Berth.Gateway;
using Xunit.Abstractions;

namespace Berth.Cluster.Tests;

/// <summary>
/// <c>Berth:Cluster:Tls</c> with real node processes: silo connections over mutual TLS against the cluster's CA, the hop over
/// HTTPS to each node's hop listener, and nodes without a certificate of that CA kept out.
/// </summary>
public sealed class ClusterTlsTests(ClusterImagesFixture fixture, ITestOutputHelper output) : IClassFixture<ClusterImagesFixture>, IDisposable
{
    private static readonly TimeSpan RefusalWait = TimeSpan.FromSeconds(90);
    private static readonly string RefusedEvent = $"[{Berth.Diagnostics.BerthEventIds.Cluster + 22}]";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "berth-tls-tests", Guid.NewGuid().ToString("N"));
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    private sealed record ProbeAnswer(string Node, string Activation, long Calls);

    public void Dispose()
    {
        _http.Dispose();
        TempDirectory.TryDelete(_directory);
    }

    [Fact]
    public async Task TwoNodes_TlsAndNodeForwarding_ObjectOnACalledFromBAndTheHopGoesOverHttps()
    {
        using var ca = TestCertificates.CreateAuthority(_directory, "cluster");
        int[] hopPorts = [BerthTestHost.FreePort(), BerthTestHost.FreePort()];
        var settings = new Dictionary<string, string>
        {
            ["Probe:Image"] = fixture.Images.App,
            ["Berth:Cluster:Forwarding"] = "node",
            ["Berth:Cluster:Tls:CaPath"] = ca.CaPath,
            [$"Berth:Containers:ExtraLabels:{BerthLabels.Test}"] = "1",
            ["Logging:LogLevel:Berth.Gateway"] = "Debug",
            ["Logging:Console:TimestampFormat"] = "HH:mm:ss.fff ",
        };
        await using var cluster = await ClusterHarness.StartAsync(output, settings, i =>
        {
            var (certificate, key) = ca.IssuePem($"node{i}");
            return new Dictionary<string, string>
            {
                ["Berth:Cluster:Tls:CertificatePath"] = certificate,
                ["Berth:Cluster:Tls:KeyPath"] = key,
                ["Berth:Cluster:HopUrl"] = $"https://127.0.0.1:{hopPorts[i]}",
            };
        }, "a", "b");
        var (a, b) = (cluster.Nodes[0], cluster.Nodes[1]);
        try
        {
            // A grain call over the TLS silo connection: the object is placed on a (its location) and called through b.
            var first = await _http.GetFromJsonAsync<ProbeAnswer>($"{b.BaseUrl}/probe/tls?location=a");
            Assert.Equal(a.NodeId, first!.Node);
            var second = await _http.GetFromJsonAsync<ProbeAnswer>($"{b.BaseUrl}/probe/tls");
            Assert.Equal((a.NodeId, first.Activation, 2L), (second!.Node, second.Activation, second.Calls));

            // Each node recorded its hop listener, not its public gateway, for the others.
            var recorded = await cluster.Database.ScalarAsync<string>($"SELECT url FROM berth_node_gateways WHERE node_id = '{a.NodeId}'");
            Assert.Equal($"https://127.0.0.1:{hopPorts[0]}", recorded);

            // A container on a, reached through b: over HTTPS to a's hop listener (a answers: its berth-node header).
            (await _http.GetAsync($"{a.BaseUrl}/c/tls/")).EnsureSuccessStatusCode();

            // A plain URL in berth_node_gateways (anyone who can write the table, or rewrite an unencrypted database
            // connection's answers) must not make b send a's tenants' requests in clear: with TLS, no hop goes there.
            var recordedUrl = recorded;
            using (var intruder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
            {
                intruder.Start();
                var plainUrl = $"http://127.0.0.1:{((System.Net.IPEndPoint)intruder.LocalEndpoint).Port}";
                await cluster.Database.ExecuteAsync($"UPDATE berth_node_gateways SET url = '{plainUrl}' WHERE node_id = '{a.NodeId}'");
                using (var refused = await _http.GetAsync($"{b.BaseUrl}/c/tls/headers"))
                {
                    output.WriteLine($"a's gateway recorded as {plainUrl}: b answered {(int)refused.StatusCode} {await refused.Content.ReadAsStringAsync()}");
                    Assert.Equal(System.Net.HttpStatusCode.BadGateway, refused.StatusCode);
                }

                Assert.False(intruder.Pending(), "b sent the hop in plain HTTP to the URL written into berth_node_gateways");
                await cluster.Database.ExecuteAsync($"UPDATE berth_node_gateways SET url = '{recordedUrl}' WHERE node_id = '{a.NodeId}'");
            }
            var body = string.Concat(Enumerable.Repeat("encrypted between the nodes ", 2000));
            using (var echo = await _http.PostAsync($"{b.BaseUrl}/c/tls/echo", new StringContent(body)))
            {
                Assert.Equal(a.NodeId, echo.Headers.GetValues(ClusterNodeHeader.HeaderName).Single());
                Assert.Equal(body, await echo.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
            }

            // A hop header on the public port, even one signed with the cluster's secret (as anyone who reads the database could
            // sign it), is a client's: a's gateway does not take the client address it vouches for (a verified hop's
            // X-Forwarded-For goes to the container as the sending node signed it) and sets its own.
            var secret = await cluster.Database.ScalarAsync<byte[]>("SELECT secret FROM berth_cluster_secrets WHERE name = 'hop'");
            const string Spoofed = "203.0.113.9";
            using (var plain = new HttpRequestMessage(HttpMethod.Get, $"{a.BaseUrl}/c/tls/headers"))
            {
                plain.Headers.TryAddWithoutValidation("X-Forwarded-For", Spoofed);
                plain.Headers.TryAddWithoutValidation(NodeHopSigner.HeaderName,
                    new NodeHopSigner(secret, TimeProvider.System).Create(b.NodeId, new HopFields(a.NodeId, "GET", "/c/tls/headers", Spoofed, null)));
                using var answer = await _http.SendAsync(plain);
                var seen = await answer.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<Dictionary<string, string>>() ?? [];
                output.WriteLine($"a signed hop on a's public port: the container saw X-Forwarded-For '{seen.GetValueOrDefault("X-Forwarded-For")}'");
                Assert.NotEqual(Spoofed, seen.GetValueOrDefault("X-Forwarded-For"));
                Assert.DoesNotContain(seen.Keys, key => key.Equals(NodeHopSigner.HeaderName, StringComparison.OrdinalIgnoreCase));
            }

            // The hop listener serves the node's app to a client with a certificate of the cluster's CA ...
            var hop = $"https://127.0.0.1:{hopPorts[0]}/health";
            using (var member = ca.Issue("member"))
            using (var client = Client(ca.CaPath, member))
            {
                Assert.Equal(a.NodeId, await client.GetStringAsync(hop));
            }

            // ... and refuses one without a certificate, or with another CA's.
            using (var anonymous = Client(ca.CaPath, certificate: null))
            {
                var refused = await Assert.ThrowsAnyAsync<HttpRequestException>(() => anonymous.GetStringAsync(hop));
                output.WriteLine($"without a certificate: {refused.Message} {refused.InnerException?.Message}");
            }

            using var other = TestCertificates.CreateAuthority(_directory, "other");
            using (var stranger = other.Issue("stranger"))
            using (var client = Client(ca.CaPath, stranger))
            {
                var refused = await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetStringAsync(hop));
                output.WriteLine($"another CA's certificate: {refused.Message} {refused.InnerException?.Message}");
            }

            Assert.Contains(a.Log.Split(Environment.NewLine), line => line.Contains(RefusedEvent, StringComparison.Ordinal)); // PeerCertificateRefused, "hop listener"

            // ... and one the cluster's CA signed that is not a node's: for server use only, or a CA certificate itself (with
            // either, a client holding the hop secret could otherwise vouch for any client address on the hop listener).
            (string Name, string[]? Usages, bool Authority, string Reason)[] notNodes =
            [
                ("server-only", [TestCertificates.ServerAuth], false, "does not include clientAuth"),
                ("sub-ca", null, true, "CA certificate (CA:TRUE)"),
            ];
            foreach (var (name, usages, authority, reason) in notNodes)
            {
                using var certificate = ca.Issue(name, usages, authority);
                using var client = Client(ca.CaPath, certificate);
                var refused = await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetStringAsync(hop));
                output.WriteLine($"{name}: {refused.Message} {refused.InnerException?.Message}");
                await WaitForLogAsync(a, $"'CN={name}'", reason);
            }
        }
        finally
        {
            foreach (var node in cluster.Nodes)
            {
                output.WriteLine($"--- node {node.NodeId} ---{Environment.NewLine}{node.Log}");
            }
        }
    }

    [Theory]
    [InlineData("another CA")]
    [InlineData("no TLS")]
    public async Task NodeWithoutACertificateOfTheClusterCa_CannotJoin(string joiner)
    {
        using var ca = TestCertificates.CreateAuthority(_directory, "cluster");
        var (certificate, key) = ca.IssuePem("member");
        await using var cluster = await ClusterHarness.StartAsync(output, new Dictionary<string, string>
        {
            ["Berth:Cluster:Tls:CaPath"] = ca.CaPath,
            ["Berth:Cluster:Tls:CertificatePath"] = certificate,
            ["Berth:Cluster:Tls:KeyPath"] = key,
        }, "a");

        var data = Path.Combine(_directory, "joiner");
        var joinerSettings = new Dictionary<string, string>
        {
            ["Berth:Objects:DataDirectory"] = data,
            ["Berth:Containers:AppName"] = cluster.AppName,
            ["Berth:Cluster:Provider"] = "postgres",
            ["Berth:Cluster:Connection"] = cluster.Database.ConnectionString,
            ["Berth:Cluster:SiloPort"] = $"{BerthTestHost.FreePort()}",
            ["Berth:Cluster:GatewayPort"] = $"{BerthTestHost.FreePort()}",
            ["Berth:Cluster:AdvertiseAddress"] = "127.0.0.1",
            ["Berth:Cluster:Location"] = "x",
        };
        using var other = TestCertificates.CreateAuthority(_directory, "other");
        if (joiner == "another CA")
        {
            var (foreignCertificate, foreignKey) = other.IssuePem("stranger");
            joinerSettings["Berth:Cluster:Tls:CaPath"] = other.CaPath;
            joinerSettings["Berth:Cluster:Tls:CertificatePath"] = foreignCertificate;
            joinerSettings["Berth:Cluster:Tls:KeyPath"] = foreignKey;
        }

        var (process, log) = ClusterNode.Launch($"http://127.0.0.1:{BerthTestHost.FreePort()}", joinerSettings);
        using (process)
        {
            try
            {
                // Orleans fails a joining silo's start when it cannot reach the active members; bounded, with the logs on failure.
                using var timeout = new CancellationTokenSource(RefusalWait);
                try
                {
                    await process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"The node with {joiner} was still running {RefusalWait.TotalSeconds} s after its start; it must fail to join.{Environment.NewLine}{string.Join(Environment.NewLine, log)}");
                }

                Assert.NotEqual(0, process.ExitCode);
                // It exited because it could not reach the member (Orleans' join check), not for some other reason.
                Assert.Contains(log, line => line.Contains("Failed to get ping responses", StringComparison.Ordinal));
                var active = await cluster.Database.ScalarAsync("SELECT count(*) FROM OrleansMembershipTable WHERE Status = 3");
                Assert.Equal(1, active);
                Assert.True(cluster.Nodes[0].IsAlive, "the member must keep running");
                if (joiner == "another CA")
                {
                    // Each side refuses the other's certificate, and says so (PeerCertificateRefused) on whichever end saw it.
                    Assert.Contains(log.Concat(cluster.Nodes[0].Log.Split(Environment.NewLine)), line => line.Contains(RefusedEvent, StringComparison.Ordinal));
                }

                output.WriteLine($"the node with {joiner} exited with {process.ExitCode}:{Environment.NewLine}{string.Join(Environment.NewLine, log.Where(l => !l.TrimStart().StartsWith("at ", StringComparison.Ordinal)))}");
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    await process.WaitForExitAsync();
                }
            }
        }
    }

    /// <summary>Waits, bounded, for a PeerCertificateRefused line on <paramref name="node"/> that contains both texts.</summary>
    private static async Task WaitForLogAsync(ClusterNode node, string subject, string reason)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!Logged())
        {
            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"Node {node.NodeId} logged no PeerCertificateRefused for {subject} ('{reason}') within 10 s.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None);
        }

        // The console logger writes the event ID on one line and the message on the next.
        bool Logged()
        {
            var lines = node.Log.Split(Environment.NewLine);
            return lines.Zip(lines.Skip(1)).Any(pair => pair.First.Contains(RefusedEvent, StringComparison.Ordinal)
                && pair.Second.Contains(subject, StringComparison.Ordinal) && pair.Second.Contains(reason, StringComparison.Ordinal));
        }
    }

    /// <summary>An HTTPS client that trusts the cluster's CA alone and presents <paramref name="certificate"/> (none when null).</summary>
    private static HttpClient Client(string caPath, X509Certificate2? certificate)
    {
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(caPath));
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, server, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return server is X509Certificate2 s && chain.Build(s);
        };
        if (certificate is not null)
        {
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate;
        }

        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }
}
