using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Berth.Containers;

/// <summary>
/// The network checks readiness and liveness are made of. The default connects over TCP and HTTP; tests register a
/// fake that answers from the fake runtime, so lifecycle tests need no sockets.
/// </summary>
public interface IContainerProbe
{
    /// <summary>Whether <paramref name="host"/> accepts a TCP connection on <paramref name="port"/> within <paramref name="timeout"/>.</summary>
    Task<bool> CanConnectAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Whether <c>GET http://host:port/path</c> answers with a status below 500 within <paramref name="timeout"/>.</summary>
    Task<bool> PingAsync(string host, int port, string path, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>Probes containers over the network, on the node's pooled <see cref="ContainerHttpClient"/>.</summary>
internal sealed class NetworkContainerProbe(ContainerHttpClient http, TimeProvider timeProvider) : IContainerProbe
{
    public async Task<bool> CanConnectAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var limit = new CancellationTokenSource(timeout, timeProvider);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            await socket.ConnectAsync(host, port, attempt.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    public Task<bool> PingAsync(string host, int port, string path, TimeSpan timeout, CancellationToken cancellationToken) =>
        http.PingAsync($"http://{host}:{port}/", path, timeout, timeProvider, cancellationToken);
}
