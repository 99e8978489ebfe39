using System.Net.Sockets;

namespace Berth.Gateway.Tests;

/// <summary>
/// A unix socket in front of the real Docker engine that a test can take down and bring back, to
/// show what callers see while the engine is unreachable and that the platform recovers.
/// </summary>
public sealed class EngineRelay : IAsyncDisposable
{
    private const string EngineSocket = "/var/run/docker.sock";

    private readonly List<Socket> _connections = [];
    private Socket? _listener;
    private CancellationTokenSource? _accepting;

    public EngineRelay() => SocketPath = Path.Combine(Path.GetTempPath(), $"berth-relay-{Guid.NewGuid():N}.sock");

    public string SocketPath { get; }

    public string Endpoint => "unix://" + SocketPath;

    public void Up()
    {
        File.Delete(SocketPath);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(64);
        _accepting = new CancellationTokenSource();
        _ = AcceptAsync(_listener, _accepting.Token);
    }

    public void Down()
    {
        _accepting?.Cancel();
        _listener?.Dispose();
        _listener = null;
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose();
            }

            _connections.Clear();
        }

        File.Delete(SocketPath);
    }

    public ValueTask DisposeAsync()
    {
        Down();
        return ValueTask.CompletedTask;
    }

    private async Task AcceptAsync(Socket listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var engine = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await engine.ConnectAsync(new UnixDomainSocketEndPoint(EngineSocket), cancellationToken);
            lock (_connections)
            {
                _connections.Add(client);
                _connections.Add(engine);
            }

            _ = PumpAsync(client, engine);
            _ = PumpAsync(engine, client);
        }
    }

    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read));
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            from.Dispose();
            to.Dispose();
        }
    }
}
