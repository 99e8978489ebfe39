using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Berth.Egress;

/// <summary>
/// The body of a container's outbound request as the handler reads it: framed by <c>Content-Length</c> or chunked
/// transfer coding, read from the container's connection as the handler asks (one 16 KiB buffer at most), counted as
/// egress bytes out. Malformed chunk framing throws <see cref="InvalidDataException"/>; a connection that ends early
/// throws <see cref="IOException"/>.
/// </summary>
internal sealed class OutboundRequestBody : Stream
{
    /// <summary>The longest chunk-size line or trailer line read, in bytes.</summary>
    private const int MaxLine = 4096;

    /// <summary>The most trailer bytes read after the last chunk.</summary>
    private const int MaxTrailers = 16 * 1024;

    private readonly Stream _inner;
    private readonly Action<long> _count;
    private readonly bool _chunked;
    private readonly byte[] _buffer;
    private int _start;
    private int _end;
    private long _remaining;
    private bool _needChunkEnd;
    private bool _done;

    /// <summary>Creates the body reader.</summary>
    /// <param name="inner">The container's connection.</param>
    /// <param name="pending">Bytes after the head the proxy already read.</param>
    /// <param name="contentLength">The declared length, when not chunked; <see langword="null"/> and not chunked means no body.</param>
    /// <param name="chunked">Whether the body uses chunked transfer coding.</param>
    /// <param name="count">Counts bytes read from the container.</param>
    public OutboundRequestBody(Stream inner, ReadOnlyMemory<byte> pending, long? contentLength, bool chunked, Action<long> count)
    {
        _inner = inner;
        _count = count;
        _chunked = chunked;
        _buffer = new byte[Math.Max(16 * 1024, pending.Length)];
        pending.CopyTo(_buffer);
        _end = pending.Length;
        count(pending.Length);
        _remaining = chunked ? 0 : contentLength ?? 0;
        _done = !chunked && _remaining == 0;
    }

    /// <summary>Body bytes handed to the reader so far (framing excluded).</summary>
    public long BytesRead { get; private set; }

    /// <summary>Whether the whole body was read.</summary>
    public bool IsComplete => _done;

    /// <summary>Whether reading failed because the container closed or broke the connection.</summary>
    public bool ConnectionFailed { get; private set; }

    /// <summary>Whether the chunk framing was malformed.</summary>
    public bool Malformed { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("The request body is read asynchronously: use ReadAsync.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_done || buffer.IsEmpty)
        {
            return 0;
        }

        if (_chunked && _remaining == 0)
        {
            await ReadChunkHeaderAsync(cancellationToken);
            if (_done)
            {
                return 0;
            }
        }

        int read;
        if (_start == _end)
        {
            // Nothing buffered: read straight into the caller's memory, never past the body's end.
            read = await ReadInnerAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken);
        }
        else
        {
            read = (int)Math.Min(Math.Min(buffer.Length, _end - _start), _remaining);
            _buffer.AsMemory(_start, read).CopyTo(buffer);
            _start += read;
        }

        _remaining -= read;
        BytesRead += read;
        if (_remaining == 0)
        {
            if (_chunked)
            {
                _needChunkEnd = true;
            }
            else
            {
                _done = true;
            }
        }

        return read;
    }

    private async Task ReadChunkHeaderAsync(CancellationToken cancellationToken)
    {
        if (_needChunkEnd)
        {
            if ((await ReadLineAsync(cancellationToken)).Length != 0)
            {
                throw Bad("chunk data is not followed by CRLF");
            }

            _needChunkEnd = false;
        }

        var line = await ReadLineAsync(cancellationToken);
        var semicolon = line.IndexOf(';', StringComparison.Ordinal);
        var digits = (semicolon < 0 ? line : line[..semicolon]).TrimEnd(' ', '\t');
        if (digits.Length is 0 or > 15 || !long.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size))
        {
            throw Bad($"invalid chunk size line '{(line.Length > 40 ? line[..40] + "…" : line)}'");
        }

        if (size > 0)
        {
            _remaining = size;
            return;
        }

        // The last chunk: trailers (ignored) up to an empty line.
        var trailers = 0;
        while (true)
        {
            var trailer = await ReadLineAsync(cancellationToken);
            if (trailer.Length == 0)
            {
                break;
            }

            trailers += trailer.Length + 2;
            if (trailers > MaxTrailers)
            {
                throw Bad($"trailers over {MaxTrailers} bytes");
            }
        }

        _done = true;
    }

    /// <summary>Reads one CRLF-terminated line from the buffer, refilling it as needed.</summary>
    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        var scanned = 0;
        while (true)
        {
            var crlf = _buffer.AsSpan(_start + scanned, _end - _start - scanned).IndexOf("\r\n"u8);
            if (crlf >= 0)
            {
                var line = Encoding.Latin1.GetString(_buffer, _start, scanned + crlf);
                _start += scanned + crlf + 2;
                return line;
            }

            scanned = Math.Max(0, _end - _start - 1);
            if (scanned > MaxLine)
            {
                throw Bad($"a chunk line over {MaxLine} bytes");
            }

            if (_end == _buffer.Length)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            var read = await ReadInnerAsync(_buffer.AsMemory(_end), cancellationToken);
            _end += read;
        }
    }

    private async Task<int> ReadInnerAsync(Memory<byte> into, CancellationToken cancellationToken)
    {
        int read;
        try
        {
            read = await _inner.ReadAsync(into, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            ConnectionFailed = true;
            throw new IOException("The container's connection failed while the request body was read.", ex);
        }

        if (read == 0)
        {
            ConnectionFailed = true;
            throw new IOException("The container closed the connection before the end of the request body.");
        }

        _count(read);
        return read;
    }

    private InvalidDataException Bad(string what)
    {
        Malformed = true;
        return new InvalidDataException($"The request body's chunked framing is malformed: {what}.");
    }
}
