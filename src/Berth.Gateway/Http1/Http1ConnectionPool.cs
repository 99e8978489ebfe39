using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Berth.Gateway.Http1;

/// <summary>
/// Keep-alive HTTP/1.1 connections to container addresses, one idle stack per address. A request takes the most
/// recently used idle connection (so surplus ones age out) and gives it back when its response was read to the end;
/// idle connections older than <see cref="GatewayOptions.PooledConnectionIdleTimeout"/> are closed by a sweep, and an
/// address nobody used for that long is forgotten (container addresses are reused by later containers).
/// Locks are per address, never global.
/// </summary>
internal sealed class Http1ConnectionPool : IDisposable
{
    /// <summary>How long an address that answered more than it was asked gets no kept-alive connection: 60 s.</summary>
    public static readonly TimeSpan QuarantineTime = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<string, AddressPool> _addresses = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _idleTimeout;
    private readonly ITimer _sweep;
    private readonly ILogger _logger;

    public Http1ConnectionPool(TimeProvider timeProvider, TimeSpan idleTimeout, ILogger logger)
    {
        _timeProvider = timeProvider;
        _logger = logger;
        _idleTimeout = idleTimeout;
        var period = idleTimeout / 2 > TimeSpan.FromSeconds(1) ? idleTimeout / 2 : TimeSpan.FromSeconds(1);
        _sweep = timeProvider.CreateTimer(static state => ((Http1ConnectionPool)state!).Sweep(), this, period, period);
    }

    /// <summary>Idle connections open now, over all addresses (for tests and diagnostics).</summary>
    public int IdleCount => _addresses.Values.Sum(a => a.IdleCount);

    /// <summary>
    /// The pool of one destination (<c>http://host:port/</c>, as <c>ContainerEndpoint.GetDestinationPrefix</c> makes it),
    /// now used for <paramref name="containerId"/> (<see cref="AddressPool.Claim"/>).
    /// </summary>
    public AddressPool Get(string destinationPrefix, string host, int port, string containerId)
    {
        if (!_addresses.TryGetValue(destinationPrefix, out var pool) || pool.Removed)
        {
            pool = _addresses.AddOrUpdate(destinationPrefix,
                static (_, state) => new AddressPool(state.Self, state.Host, state.Port),
                static (_, existing, state) => existing.Removed ? new AddressPool(state.Self, state.Host, state.Port) : existing,
                (Self: this, Host: host, Port: port));
        }

        pool.Claim(containerId);
        return pool;
    }

    private void Sweep()
    {
        var now = _timeProvider.GetTimestamp();
        foreach (var (key, pool) in _addresses)
        {
            if (pool.Sweep(now, _timeProvider, _idleTimeout))
            {
                _addresses.TryRemove(new KeyValuePair<string, AddressPool>(key, pool));
            }
        }
    }

    public void Dispose()
    {
        _sweep.Dispose();
        foreach (var pool in _addresses.Values)
        {
            pool.Close();
        }

        _addresses.Clear();
    }

    /// <summary>The idle connections to one address.</summary>
    internal sealed class AddressPool(Http1ConnectionPool owner, string host, int port)
    {
        private readonly Stack<Http1Connection> _idle = new();
        private long _lastUsed = owner._timeProvider.GetTimestamp();
        private long _quarantinedUntil;
        private string? _containerId;

        public EndPoint Address { get; } = IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);

        /// <summary>The <c>Host</c> header a request to this address carries: the address itself, as YARP sends it.</summary>
        public byte[] HostHeader { get; } = System.Text.Encoding.ASCII.GetBytes(
            (host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? "[" + host + "]" : host) + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        public bool Removed { get; private set; }

        public int IdleCount
        {
            get
            {
                lock (_idle)
                {
                    return _idle.Count;
                }
            }
        }

        /// <summary>
        /// An idle connection young enough to use on which the container has sent nothing and not closed since its last
        /// response, or <see langword="null"/>.
        /// </summary>
        public Http1Connection? TryRent()
        {
            var now = owner._timeProvider.GetTimestamp();
            if (IsQuarantined(now))
            {
                return null;
            }

            while (true)
            {
                Http1Connection? connection;
                lock (_idle)
                {
                    _lastUsed = now;
                    if (!_idle.TryPop(out connection))
                    {
                        return null;
                    }
                }

                if (owner._timeProvider.GetElapsedTime(connection.LastUsed, now) < owner._idleTimeout && connection.IsQuiet())
                {
                    return connection;
                }

                // Bytes on an idle connection answer no request: the container answered more than it was asked.
                var unasked = connection.HasUnaskedBytes();
                connection.Dispose();
                if (unasked)
                {
                    Quarantine();
                    return null;
                }
            }
        }

        /// <summary>
        /// Whether the address's connections are not reused now (<see cref="Quarantine"/>): every request then gets a
        /// connection of its own, closed after its response.
        /// </summary>
        public bool IsQuarantined(long now) => now < Volatile.Read(ref _quarantinedUntil);

        /// <summary>
        /// The container answered more than it was asked (bytes after a whole response, or on an idle connection). On a
        /// kept-alive connection such an answer is served to the next request, and each later answer can stay one behind
        /// while requests follow each other closely (its clients get each other's responses). So the address's idle
        /// connections are closed and none is reused for <see cref="QuarantineTime"/>, each request on a new connection.
        /// Returns whether the address was not quarantined before (to log once).
        /// </summary>
        public bool Quarantine()
        {
            var now = owner._timeProvider.GetTimestamp();
            var was = IsQuarantined(now);
            Volatile.Write(ref _quarantinedUntil, now + (long)(QuarantineTime.TotalSeconds * owner._timeProvider.TimestampFrequency));
            Http1Connection[] idle;
            lock (_idle)
            {
                idle = [.. _idle];
                _idle.Clear();
            }

            foreach (var connection in idle)
            {
                connection.Dispose();
            }

            if (!was)
            {
                Log.ContainerAnsweredUnasked(owner._logger, Address.ToString() ?? "", QuarantineTime.TotalSeconds);
            }

            return !was;
        }

        /// <summary>
        /// Makes this the pool of <paramref name="containerId"/>. When another container had the address before (it stopped
        /// and the engine gave its address to a new one), what that one did is not held against the new one: its idle
        /// connections are closed and its <see cref="Quarantine"/> ends. The warm path's cost is one reference comparison
        /// (a lease hands out the same ID string to every request).
        /// </summary>
        public void Claim(string containerId)
        {
            var current = Volatile.Read(ref _containerId);
            if (ReferenceEquals(current, containerId) || string.Equals(current, containerId, StringComparison.Ordinal))
            {
                return;
            }

            Http1Connection[] idle;
            lock (_idle)
            {
                var previous = _containerId;
                if (string.Equals(previous, containerId, StringComparison.Ordinal))
                {
                    return;
                }

                Volatile.Write(ref _containerId, containerId);
                if (previous is null)
                {
                    return;
                }

                Volatile.Write(ref _quarantinedUntil, 0);
                idle = [.. _idle];
                _idle.Clear();
            }

            foreach (var connection in idle)
            {
                connection.Dispose();
            }
        }

        /// <summary>A new connection to the address; throws <see cref="SocketException"/> or <see cref="OperationCanceledException"/>.</summary>
        public async ValueTask<Http1Connection> ConnectAsync(Http1Connection connection, CancellationToken cancellationToken)
        {
            await connection.Socket.ConnectAsync(Address, cancellationToken);
            return connection;
        }

        public Http1Connection Create() => new(owner._timeProvider);

        /// <summary>Gives a connection whose last response was read to its end back for the next request.</summary>
        public void Return(Http1Connection connection)
        {
            connection.LastUsed = owner._timeProvider.GetTimestamp();
            lock (_idle)
            {
                if (!Removed && !IsQuarantined(connection.LastUsed))
                {
                    _idle.Push(connection);
                    return;
                }
            }

            connection.Dispose();
        }

        /// <summary>Closes idle connections past the timeout; true when the address went unused that long and was closed.</summary>
        public bool Sweep(long now, TimeProvider time, TimeSpan idleTimeout)
        {
            List<Http1Connection>? stale = null;
            bool forget;
            lock (_idle)
            {
                // Oldest at the bottom: rebuild the stack without the stale ones.
                if (_idle.Count > 0)
                {
                    var kept = new List<Http1Connection>(_idle.Count);
                    foreach (var connection in _idle)
                    {
                        if (time.GetElapsedTime(connection.LastUsed, now) >= idleTimeout)
                        {
                            (stale ??= []).Add(connection);
                        }
                        else
                        {
                            kept.Add(connection);
                        }
                    }

                    if (stale is not null)
                    {
                        _idle.Clear();
                        for (var i = kept.Count - 1; i >= 0; i--)
                        {
                            _idle.Push(kept[i]);
                        }
                    }
                }

                // A quarantined address is kept until its quarantine ends: forgetting it would end the quarantine early.
                forget = _idle.Count == 0 && time.GetElapsedTime(_lastUsed, now) >= idleTimeout && !IsQuarantined(now);
                if (forget)
                {
                    Removed = true;
                }
            }

            stale?.ForEach(c => c.Dispose());
            return forget;
        }

        public void Close()
        {
            Http1Connection[] idle;
            lock (_idle)
            {
                Removed = true;
                idle = [.. _idle];
                _idle.Clear();
            }

            foreach (var connection in idle)
            {
                connection.Dispose();
            }
        }
    }
}

/// <summary>
/// One keep-alive connection to a container: its socket, its receive buffer (bytes read but not yet used sit between
/// <see cref="Start"/> and <see cref="End"/>), and a timer token that bounds each wait by the activity timeout.
/// </summary>
internal sealed class Http1Connection : IDisposable
{
    /// <summary>Receive buffer size: one read takes a whole small response (head and body), as nginx's 4–8 KiB proxy buffers do, with room.</summary>
    public const int BufferSize = 16 * 1024;

    private readonly CancellationTokenSource _timeout;
    private int _disposed;

    public Http1Connection(TimeProvider timeProvider)
    {
        _timeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider);
        Socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        LastUsed = timeProvider.GetTimestamp();
    }

    public Socket Socket { get; }

    public byte[] Buffer { get; private set; }

    public int Start { get; set; }

    public int End { get; set; }

    public long LastUsed { get; set; }

    /// <summary>The last response's header values, reused when the next response repeats them (no string per header per request).</summary>
    public HeaderValueCache Values { get; } = new();

    /// <summary>The token every socket operation and client flush of the current request waits with.</summary>
    public CancellationToken Token => _timeout.Token;

    /// <summary>Whether the token fired (activity timeout or the client's abort).</summary>
    public bool Canceled => _timeout.IsCancellationRequested;

    /// <summary>Starts a wait of at most <paramref name="timeout"/>.</summary>
    public void Arm(TimeSpan timeout) => _timeout.CancelAfter(timeout);

    /// <summary>Cancels the current wait (the client went away).</summary>
    public void Cancel()
    {
        try
        {
            _timeout.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed by a concurrent failure: nothing left to wake.
        }
    }

    /// <summary>
    /// Stops the timer for the idle time in the pool; false when it fired (or the client's abort cancelled it), so the
    /// connection must not be reused. Not <see cref="CancellationTokenSource.TryReset"/>: that drops the source's pooled
    /// registration nodes, and every request would allocate new ones.
    /// </summary>
    public bool TryDisarm()
    {
        _timeout.CancelAfter(Timeout.InfiniteTimeSpan);
        return !_timeout.IsCancellationRequested;
    }

    /// <summary>
    /// Whether an idle connection is silent: readable now means bytes that answer no request (a container answering
    /// twice, or after a 204/HEAD/Content-Length end; they would be served as the next request's response) or the
    /// container's close or reset. One non-blocking poll; bytes that arrive after it are the next request's answer as
    /// far as anyone can tell (SocketsHttpHandler has the same window).
    /// </summary>
    public bool IsQuiet()
    {
        try
        {
            return !Socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Whether the container sent bytes that were not read yet (not only a close) that are not a 408 before a close.</summary>
    /// <remarks>
    /// A server may answer <c>408 Request Timeout</c> with <c>Connection: close</c> just before it closes an idle connection
    /// (RFC 9110 §15.5.9): that is not an unasked answer to a request, so it does not count.
    /// </remarks>
    public bool HasUnaskedBytes()
    {
        try
        {
            if (Socket.Available == 0)
            {
                return false;
            }

            // Only with Connection: close: a 408 that keeps the connection would be served to the next request like any
            // unasked answer, so it counts (a container could otherwise use it to dodge the quarantine).
            Span<byte> start = stackalloc byte[1024];
            var peeked = Socket.Receive(start, SocketFlags.Peek);
            return !(Http1ResponseHead.IsRequestTimeout(start[..peeked])
                && System.Text.Encoding.Latin1.GetString(start[..peeked]).Contains("\nConnection: close\r", StringComparison.OrdinalIgnoreCase));
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Grows the receive buffer (a response head larger than it), keeping the unread bytes; at most <paramref name="max"/> bytes.</summary>
    public bool TryGrow(int max)
    {
        if (Buffer.Length >= max)
        {
            return false;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(max, Buffer.Length * 2));
        Buffer.AsSpan(Start, End - Start).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(Buffer);
        End -= Start;
        Start = 0;
        Buffer = bigger;
        return true;
    }

    /// <summary>Moves unread bytes to the front of the buffer, so the next read has the most room.</summary>
    public void Compact()
    {
        if (Start == End)
        {
            Start = End = 0;
        }
        else if (Start > 0)
        {
            Buffer.AsSpan(Start, End - Start).CopyTo(Buffer);
            End -= Start;
            Start = 0;
        }
    }

    /// <summary>Whether the current wait is a flush to the client (so a timeout is the client's, not the container's).</summary>
    public bool WaitingOnClient { get; set; }

    /// <summary>Whether a byte of the current response's body was written to the client.</summary>
    public bool WroteBody { get; set; }

    /// <summary>Reads more bytes after <see cref="End"/>; 0 when the container closed the connection.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> FillAsync(TimeSpan timeout)
    {
        if (End == Buffer.Length)
        {
            Compact();
        }

        Arm(timeout);
        var read = await Socket.ReceiveAsync(Buffer.AsMemory(End), SocketFlags.None, Token);
        End += read;
        return read;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Socket.Dispose();
        _timeout.Dispose();
        var buffer = Buffer;
        Buffer = [];
        ArrayPool<byte>.Shared.Return(buffer);
    }
}
