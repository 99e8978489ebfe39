using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Berth.Gateway.Tests;

/// <summary>
/// The hop to another node's <c>https://</c> gateway (<c>Berth:Cluster:Tls</c>) without a cluster: the rig's container runs
/// on node <c>other</c>, whose "gateway" is a scripted TLS server on loopback. The hop's wait for an upgrade's answer, and a
/// refused upgrade's body, are bounded by <see cref="GatewayOptions.RequestActivityTimeout"/> as on the plain hop, not by
/// the upgraded connection's idle time (24 h here).
/// </summary>
public sealed class TlsHopTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>A hop whose every other node's gateway is <paramref name="prefix"/>, trusting only <paramref name="certificate"/>.</summary>
    private sealed class FakeHop(string prefix, X509Certificate2 certificate) : INodeHop
    {
        public string NodeId => "this";

        public NodeHopSigner Signer { get; } = new(new byte[32], TimeProvider.System);

        public SslClientAuthenticationOptions ClientTls => new()
        {
            RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString(),
        };

        public ValueTask<string?> GetGatewayPrefixAsync(string nodeId, CancellationToken cancellationToken) => ValueTask.FromResult<string?>(prefix);

        public void Forget(string nodeId)
        {
        }
    }

    /// <summary>A one-connection TLS server: reads a request head, then runs <paramref name="script"/> on the stream.</summary>
    private sealed class TlsGateway : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly X509Certificate2 _certificate = SelfSignedCertificate.Create();
        private readonly Task _served;

        public TlsGateway(Func<SslStream, Task> script)
        {
            _listener.Start();
            Prefix = $"https://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";
            _served = ServeAsync(script);
        }

        public string Prefix { get; }

        public X509Certificate2 Certificate => _certificate;

        /// <summary>The request head the hop sent.</summary>
        public TaskCompletionSource<string> Head { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Whether the gateway closed the hop's connection (a read returned 0 or failed) before the script gave up.</summary>
        public TaskCompletionSource<bool> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private async Task ServeAsync(Func<SslStream, Task> script)
        {
            using var socket = await _listener.AcceptSocketAsync();
            await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
            await tls.AuthenticateAsServerAsync(_certificate);
            var head = new StringBuilder();
            var buffer = new byte[4096];
            while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await tls.ReadAsync(buffer);
                if (read == 0)
                {
                    Head.TrySetException(new IOException($"The hop closed before its head ended: {head}"));
                    return;
                }

                head.Append(Encoding.Latin1.GetString(buffer, 0, read));
            }

            Head.SetResult(head.ToString());
            await script(tls);
            using var wait = new CancellationTokenSource(2 * Bound);
            try
            {
                Closed.TrySetResult(await tls.ReadAsync(buffer, wait.Token) == 0);
            }
            catch (OperationCanceledException)
            {
                Closed.TrySetResult(false);
            }
            catch (IOException)
            {
                Closed.TrySetResult(true);
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Dispose();
            await Task.WhenAny(_served, Task.Delay(Bound));
            _certificate.Dispose();
        }
    }

    private static Task<ForwarderRig> StartAsync(TlsGateway gateway) =>
        ForwarderRig.StartAsync(
            o =>
            {
                o.RequestActivityTimeout = TimeSpan.FromSeconds(1);
                o.UpgradedActivityTimeout = TimeSpan.FromHours(24);
            },
            hop: new FakeHop(gateway.Prefix, gateway.Certificate));

    private static HttpRequestMessage Upgrade()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/p/ws");
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("websocket"));
        return request;
    }

    [Fact]
    public async Task TlsHop_UpgradeNeverAnswered_FailsAtTheRequestActivityTimeoutNotTheUpgradedOne()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var gateway = new TlsGateway(_ => release.Task.WaitAsync(2 * Bound));
        await using var rig = await StartAsync(gateway);
        using var request = Upgrade();

        // Before, the TLS hop's handler had no bound of its own: the 24 h of the upgraded connection applied to the answer.
        using var response = await rig.Client.SendAsync(request).WaitAsync(Bound);
        release.SetResult();

        Assert.Contains("Upgrade: websocket", await gateway.Head.Task.WaitAsync(Bound), StringComparison.OrdinalIgnoreCase);
        var (status, error) = await Http1ForwarderTests.ErrorOfAsync(response);
        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal("node_unreachable", error);
    }

    [Fact]
    public async Task TlsHop_UpgradeRefusedThenSilent_BodyAbortedAtTheRequestActivityTimeout()
    {
        await using var gateway = new TlsGateway(tls => tls.WriteAsync("HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"u8.ToArray()).AsTask());
        await using var rig = await StartAsync(gateway);
        using var request = Upgrade();

        using var response = await rig.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Bound);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("hello", await ForwarderResponseHeadTests.ReadUntilAbortedAsync(response, Bound));
        Assert.True(await gateway.Closed.Task, "The hop kept its TLS connection to a gateway whose answer stalled.");
    }

    [Fact]
    public async Task TlsHop_RequestWithBody_SentOverTls()
    {
        await using var gateway = new TlsGateway(async tls =>
        {
            await tls.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray());
            tls.Close();
        });
        await using var rig = await StartAsync(gateway);

        // A body request no longer takes the handler's full-duplex path, which speaks only plain TCP.
        using var response = await rig.Client.PostAsync("/p/upload", new StringContent("hello")).WaitAsync(Bound);

        Assert.Equal("ok", await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
        Assert.StartsWith("POST /p/upload HTTP/1.1", await gateway.Head.Task.WaitAsync(Bound), StringComparison.Ordinal);
    }
}
