namespace Berth.Cli.Tests;

/// <summary>Gives a prefix, then up to <c>length</c> bytes of 'x' without a newline; counts what was read.</summary>
internal sealed class EndlessLineStream(byte[] prefix, long length) : Stream
{
    public long Served { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => Served; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = 0;
        while (n < count && Served < prefix.Length + length)
        {
            buffer[offset + n++] = Served < prefix.Length ? prefix[Served] : (byte)'x';
            Served++;
        }

        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var chunk = new byte[Math.Min(buffer.Length, 64 * 1024)];
        var n = Read(chunk, 0, chunk.Length);
        chunk.AsSpan(0, n).CopyTo(buffer.Span);
        return ValueTask.FromResult(n);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
