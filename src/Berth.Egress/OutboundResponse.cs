using System.Globalization;
using System.Text;

namespace Berth.Egress;

/// <summary>
/// The answer a handler gives to a container's outbound request (see <see cref="IOutboundHandler"/>). Set
/// <see cref="StatusCode"/>, headers and, when known, <see cref="ContentLength"/>, then write the body: the head is
/// sent with the first write (or when the handler returns), and every write goes to the container as it is made, so
/// a large answer is never held in memory. Without <see cref="ContentLength"/> the body is sent chunked (to an
/// HTTP/1.0 client: delimited by closing the connection). Every answer closes the connection after it
/// (<c>Connection: close</c>).
/// </summary>
public sealed class OutboundResponse
{
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Proxy-Connection", "Trailer",
    };

    private readonly Stream _output;
    private readonly bool _framed;
    private readonly bool _http11;
    private readonly bool _headRequest;
    private readonly Action<long>? _count;
    private readonly List<KeyValuePair<string, string>> _headers = [];
    private int _statusCode = 200;
    private long? _contentLength;
    private bool _chunked;
    private bool _completed;

    internal OutboundResponse(Stream output, bool framed, bool http11, bool headRequest, Action<long>? count)
    {
        _output = output;
        _framed = framed;
        _http11 = http11;
        _headRequest = headRequest;
        _count = count;
        Body = new BodyStream(this);
    }

    /// <summary>
    /// Creates a response that writes only the body to <paramref name="body"/> and keeps status and headers in its
    /// properties: for unit tests of a handler (the proxy makes its own, which writes HTTP to the container).
    /// </summary>
    /// <param name="body">Receives the body bytes.</param>
    public static OutboundResponse Create(Stream body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return new OutboundResponse(body, framed: false, http11: true, headRequest: false, count: null);
    }

    /// <summary>The status code.</summary>
    /// <value>Defaults to 200. 200–599 (informational answers are the proxy's own); not settable once <see cref="HasStarted"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">Outside 200–599.</exception>
    /// <exception cref="InvalidOperationException">The head was already sent.</exception>
    public int StatusCode
    {
        get => _statusCode;
        set
        {
            EnsureNotStarted();
            _statusCode = value is >= 200 and <= 599 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "StatusCode: 200–599.");
        }
    }

    /// <summary>The body's length in bytes, sent as <c>Content-Length</c>; writing more throws, returning after writing less aborts the connection.</summary>
    /// <value>Defaults to <see langword="null"/>: the body is sent chunked. 0 or more; not settable once <see cref="HasStarted"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    /// <exception cref="InvalidOperationException">The head was already sent.</exception>
    public long? ContentLength
    {
        get => _contentLength;
        set
        {
            EnsureNotStarted();
            _contentLength = value is null or >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "ContentLength: 0 or more.");
        }
    }

    /// <summary>The headers set so far, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers => _headers;

    /// <summary>Whether the head was sent (status and headers can no longer change, and a failure can no longer become a 502).</summary>
    public bool HasStarted { get; private set; }

    /// <summary>Body bytes written so far.</summary>
    public long BodyBytes { get; private set; }

    /// <summary>The body as a write-only stream (for <see cref="Stream.CopyToAsync(Stream, CancellationToken)"/> and serializers).</summary>
    public Stream Body { get; }

    /// <summary>Sets header <paramref name="name"/> to <paramref name="value"/>, replacing earlier values.</summary>
    /// <param name="name">A header name (an HTTP token); not <c>Content-Length</c> (use <see cref="ContentLength"/>), <c>Transfer-Encoding</c>, <c>Connection</c> or other hop-by-hop headers.</param>
    /// <param name="value">The value: no CR, LF or other control characters but tab.</param>
    /// <exception cref="ArgumentException">The name or value is not allowed.</exception>
    /// <exception cref="InvalidOperationException">The head was already sent.</exception>
    public void SetHeader(string name, string value)
    {
        Validate(name, value);
        _headers.RemoveAll(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase));
        _headers.Add(new(name, value));
    }

    /// <summary>Adds a value of header <paramref name="name"/>, keeping earlier ones (for example a second <c>Set-Cookie</c>).</summary>
    /// <inheritdoc cref="SetHeader" path="/param"/>
    /// <inheritdoc cref="SetHeader" path="/exception"/>
    public void AddHeader(string name, string value)
    {
        Validate(name, value);
        _headers.Add(new(name, value));
    }

    /// <summary>Sends the head now (status and headers), before any body.</summary>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="IOException">The container closed the connection.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default) => HasStarted ? Task.CompletedTask : SendHeadAsync(cancellationToken);

    /// <summary>Writes body bytes to the container (the head first, when not yet sent).</summary>
    /// <param name="data">The bytes.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="InvalidOperationException">More than <see cref="ContentLength"/>, a body on a 204 or 304, or after the response completed.</exception>
    /// <exception cref="IOException">The container closed the connection.</exception>
    public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (_completed)
        {
            throw new InvalidOperationException("The response is complete: the handler returned.");
        }

        if (!HasStarted)
        {
            await SendHeadAsync(cancellationToken);
        }

        if (data.IsEmpty)
        {
            return;
        }

        if (_statusCode is 204 or 304)
        {
            throw new InvalidOperationException($"A {_statusCode} response has no body.");
        }

        if (_contentLength is { } length && BodyBytes + data.Length > length)
        {
            throw new InvalidOperationException($"The body is longer than its ContentLength of {length} bytes.");
        }

        BodyBytes += data.Length;
        if (_headRequest)
        {
            // The answer to HEAD carries the head only.
            return;
        }

        if (_chunked)
        {
            await SendAsync(Encoding.ASCII.GetBytes(data.Length.ToString("X", CultureInfo.InvariantCulture) + "\r\n"), cancellationToken);
            await SendAsync(data, cancellationToken);
            await SendAsync("\r\n"u8.ToArray(), cancellationToken);
        }
        else
        {
            await SendAsync(data, cancellationToken);
        }
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (set a <c>Content-Type</c> first).</summary>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <inheritdoc cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)" path="/exception"/>
    public Task WriteAsync(string text, CancellationToken cancellationToken = default) =>
        WriteAsync(Encoding.UTF8.GetBytes(text ?? throw new ArgumentNullException(nameof(text))), cancellationToken);

    /// <summary>Ends the response after the handler returned: the head when not yet sent, the last chunk.</summary>
    /// <exception cref="InvalidOperationException">Fewer bytes than <see cref="ContentLength"/> were written.</exception>
    internal async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_completed)
        {
            return;
        }

        if (!HasStarted)
        {
            // Nothing was written: the body is empty, and its length is known.
            _contentLength ??= 0;
            await SendHeadAsync(cancellationToken);
        }

        _completed = true;
        if (_contentLength is { } length && BodyBytes < length && _statusCode is not (204 or 304))
        {
            throw new InvalidOperationException($"The handler wrote {BodyBytes} of its ContentLength of {length} bytes.");
        }

        if (_chunked && !_headRequest)
        {
            await SendAsync("0\r\n\r\n"u8.ToArray(), cancellationToken);
        }
    }

    private async Task SendHeadAsync(CancellationToken cancellationToken)
    {
        HasStarted = true;
        if (!_framed)
        {
            return;
        }

        var bodyless = _statusCode is 204 or 304;
        _chunked = !bodyless && _contentLength is null && _http11;
        var head = new StringBuilder();
        head.Append("HTTP/1.1 ").Append(_statusCode.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(Reason(_statusCode)).Append("\r\n");
        foreach (var (name, value) in _headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        if (!bodyless && _contentLength is { } length)
        {
            head.Append("Content-Length: ").Append(length.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }
        else if (_chunked)
        {
            head.Append("Transfer-Encoding: chunked\r\n");
        }

        head.Append("Connection: close\r\n\r\n");
        await SendAsync(Encoding.Latin1.GetBytes(head.ToString()), cancellationToken);
    }

    /// <summary>Whether a write to the container failed (it closed the connection): the failure is the container's, not the handler's.</summary>
    internal bool ConnectionFailed { get; private set; }

    private async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        // Counted before it is passed on, as the proxy's splice does.
        _count?.Invoke(bytes.Length);
        try
        {
            await _output.WriteAsync(bytes, cancellationToken);
        }
        catch (Exception ex) when (_framed && ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            ConnectionFailed = true;
            throw new IOException("The container closed the connection before the answer's end.", ex);
        }
    }

    private void EnsureNotStarted()
    {
        if (HasStarted)
        {
            throw new InvalidOperationException("The response's head was already sent.");
        }
    }

    private void Validate(string name, string value)
    {
        EnsureNotStarted();
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
        {
            throw new ArgumentException($"Header name '{name}': an HTTP token (letters, digits, !#$%&'*+-.^_`|~).", nameof(name));
        }

        if (Reserved.Contains(name))
        {
            throw new ArgumentException($"Header '{name}' is set by the proxy (use ContentLength for the body's length).", nameof(name));
        }

        if (value.Any(c => c is < ' ' and not '\t' or '\x7f' || c > '\xff'))
        {
            throw new ArgumentException($"The value of header '{name}' has a control or non-Latin-1 character.", nameof(value));
        }
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    };

    private sealed class BodyStream(OutboundResponse owner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) =>
            throw new NotSupportedException("The response body is written asynchronously: use WriteAsync.");

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            owner.WriteAsync(buffer.AsMemory(offset, count), cancellationToken);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            await owner.WriteAsync(buffer, cancellationToken);
    }
}
