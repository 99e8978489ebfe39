using System.Buffers.Binary;

namespace Berth.Replication;

/// <summary>The committed frames read from a SQLite write-ahead log (https://www.sqlite.org/fileformat2.html#walformat).</summary>
/// <param name="Frames">Whole frames (24-byte header + page), ending on a commit frame; empty when nothing new was committed.</param>
/// <param name="EndOffset">The file offset just after the last commit frame read (where the next read starts).</param>
/// <param name="Salt">The log's salts (both, as one number): they change when SQLite starts the log over.</param>
/// <param name="PageSize">The page size in bytes the log records.</param>
internal readonly record struct WalRead(byte[] Frames, long EndOffset, ulong Salt, int PageSize);

/// <summary>Reads and applies SQLite write-ahead-log frames.</summary>
internal static class WalFile
{
    public const int HeaderSize = 32;
    public const int FrameHeaderSize = 24;

    /// <summary>
    /// Reads the frames committed after <paramref name="offset"/> in the log at <paramref name="walPath"/>. When the log's salts differ
    /// from <paramref name="salt"/> (SQLite started the log over after a checkpoint), it reads from the first frame.
    /// </summary>
    public static WalRead ReadCommitted(string walPath, long offset, ulong salt)
    {
        if (!File.Exists(walPath))
        {
            return new WalRead([], 0, 0, 0);
        }

        using var file = new FileStream(walPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> header = stackalloc byte[HeaderSize];
        if (file.Length < HeaderSize || file.Read(header) < HeaderSize)
        {
            return new WalRead([], 0, 0, 0);
        }

        var pageSize = (int)BinaryPrimitives.ReadUInt32BigEndian(header[8..]);
        if (pageSize == 1)
        {
            pageSize = 65536;
        }

        var headerSalt = BinaryPrimitives.ReadUInt64BigEndian(header[16..]);
        var start = offset >= HeaderSize && headerSalt == salt ? offset : HeaderSize;
        var frameSize = FrameHeaderSize + pageSize;
        var available = file.Length - start;
        if (available < frameSize)
        {
            return new WalRead([], start, headerSalt, pageSize);
        }

        var buffer = new byte[available - (available % frameSize)];
        file.Position = start;
        file.ReadExactly(buffer);
        var committed = 0;
        for (var at = 0; at + frameSize <= buffer.Length; at += frameSize)
        {
            var frame = buffer.AsSpan(at, FrameHeaderSize);
            if (BinaryPrimitives.ReadUInt64BigEndian(frame[8..]) != headerSalt)
            {
                break; // a frame left over from an earlier log: the valid log ends here
            }

            if (BinaryPrimitives.ReadUInt32BigEndian(frame[4..]) != 0)
            {
                committed = at + frameSize;
            }
        }

        return new WalRead(committed == buffer.Length ? buffer : buffer[..committed], start + committed, headerSalt, pageSize);
    }

    /// <summary>Applies whole frames to a database file: each page at <c>(pgno - 1) * pageSize</c>; a commit frame sets the file's size.</summary>
    public static void Apply(FileStream database, ReadOnlySpan<byte> frames, int pageSize)
    {
        var frameSize = FrameHeaderSize + pageSize;
        if (frames.Length % frameSize != 0)
        {
            throw new InvalidDataException($"A shipment of {frames.Length} bytes is not a whole number of {frameSize}-byte frames.");
        }

        for (var at = 0; at < frames.Length; at += frameSize)
        {
            var pageNumber = BinaryPrimitives.ReadUInt32BigEndian(frames[at..]);
            var commitSize = BinaryPrimitives.ReadUInt32BigEndian(frames[(at + 4)..]);
            database.Position = (pageNumber - 1L) * pageSize;
            database.Write(frames.Slice(at + FrameHeaderSize, pageSize));
            if (commitSize != 0)
            {
                database.SetLength(commitSize * (long)pageSize);
            }
        }
    }
}
