using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Berth.Gateway.Tests;

/// <summary>
/// A scripted "container" on a raw loopback socket, for the gateway's HTTP/1.1 forwarder: each accepted connection runs
/// the next queued script (else <see cref="Fallback"/>), so a test writes exactly the bytes a hostile or odd server
/// would. Counts accepted connections and records every request head it read.
/// </summary>
public sealed class RawContainer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly ConcurrentQueue<(Func<RawConnection, Task> Script, TaskCompletionSource Done)> _scripts = new();
    private readonly ConcurrentBag<RawConnection> _connections = [];
    private readonly ConcurrentBag<Task> _running = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private int _accepted;

    public RawContainer()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Every request head read by any script, in order, as Latin-1 text ending with the empty line.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Failures of scripts (an assertion or I/O failure inside one), reported by <see cref="AssertNoFaults"/>.</summary>
    public ConcurrentQueue<Exception> Faults { get; } = new();

    /// <summary>The script of a connection no queued script is left for: a keep-alive server answering <c>conn{n} {target}</c>.</summary>
    public Func<RawConnection, Task> Fallback { get; set; } = static c => c.ServeAsync(head => Ok($"conn{c.Index} {RawConnection.TargetOf(head)}"));

    /// <summary>Queues a script for the next connection; its <see cref="RawScript.Ended"/> completes when the script has ended.</summary>
    public RawScript Enqueue(Func<RawConnection, Task> script)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _scripts.Enqueue((script, done));
        return new RawScript(done.Task);
    }

    /// <summary>A 200 with a Content-Length body.</summary>
    public static string Ok(string body, string extraHeaders = "") =>
        $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n{extraHeaders}Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";

    public void AssertNoFaults() => Assert.Empty(Faults);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            socket.NoDelay = true;
            var index = Interlocked.Increment(ref _accepted);
            var connection = new RawConnection(socket, index, this);
            _connections.Add(connection);
            var (script, done) = _scripts.TryDequeue(out var queued) ? queued : (Fallback, null);
            _running.Add(RunAsync(connection, script, done));
        }
    }

    private async Task RunAsync(RawConnection connection, Func<RawConnection, Task> script, TaskCompletionSource? done)
    {
        try
        {
            await script(connection);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The gateway closed or reset the connection under the script: that is what many tests cause.
        }
        catch (Exception ex)
        {
            Faults.Enqueue(ex);
        }
        finally
        {
            connection.Dispose();
            done?.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }

        await _acceptLoop;
        await Task.WhenAll(_running);
        _stop.Dispose();
    }
}

/// <summary>A queued script of a <see cref="RawContainer"/>.</summary>
/// <param name="Ended">Completes when the script has ended (its connection is closed then).</param>
public sealed record RawScript(Task Ended);

/// <summary>One accepted connection of a <see cref="RawContainer"/>.</summary>
public sealed class RawConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly RawContainer _owner;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    internal RawConnection(Socket socket, int index, RawContainer owner)
    {
        _socket = socket;
        Index = index;
        _owner = owner;
    }

    /// <summary>1 for the first connection the container accepted.</summary>
    public int Index { get; }

    /// <summary>The request target of a request head (<c>GET /a?b HTTP/1.1</c> → <c>/a?b</c>).</summary>
    public static string TargetOf(string head) => head.Split('\n')[0].Split(' ')[1];

    /// <summary>Reads a request head (requests on this path have no body); <see langword="null"/> when the gateway closed the connection.</summary>
    public async Task<string?> ReadRequestAsync()
    {
        while (true)
        {
            var end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                var head = Encoding.Latin1.GetString(_buffer, _start, end + 4);
                _start += end + 4;
                _owner.Requests.Enqueue(head);
                return head;
            }

            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }

            var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None);
            if (read == 0)
            {
                return null;
            }

            _end += read;
        }
    }

    /// <summary>Answers every request on the connection with <paramref name="answer"/> of its head, until the gateway closes it.</summary>
    public async Task ServeAsync(Func<string, string> answer)
    {
        while (await ReadRequestAsync() is { } head)
        {
            await WriteAsync(answer(head));
        }
    }

    /// <summary>Reads one request and writes <paramref name="response"/> (Latin-1: every char is the byte a test means).</summary>
    public async Task AnswerAsync(string response)
    {
        Assert.NotNull(await ReadRequestAsync());
        await WriteAsync(response);
    }

    public async Task WriteAsync(string text) => await WriteAsync(Encoding.Latin1.GetBytes(text));

    public async Task WriteAsync(byte[] bytes)
    {
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await _socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
        }
    }

    /// <summary>Writes one byte per send: a server that drips its answer.</summary>
    public async Task DripAsync(string text)
    {
        foreach (var b in Encoding.Latin1.GetBytes(text))
        {
            await WriteAsync([b]);
            await Task.Yield();
        }
    }

    /// <summary>
    /// Waits until the gateway closes (or resets) the connection, reading and dropping whatever it sends; true when it
    /// did within <paramref name="within"/>, false when the connection was still open then.
    /// </summary>
    public async Task<bool> GatewayClosesAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            while (await _socket.ReceiveAsync(_buffer.AsMemory(_end == _buffer.Length ? 0 : _end), SocketFlags.None, timeout.Token) > 0)
            {
            }

            return true;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Closes with a TCP reset rather than a FIN (SO_LINGER 0), as a killed process or a full accept queue does.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    /// <summary>Closes the connection (FIN) after the bytes written so far.</summary>
    public void Close() => _socket.Shutdown(SocketShutdown.Both);

    public void Dispose() => _socket.Dispose();
}
