using System.Buffers.Binary;
using System.Text;

namespace Berth.Egress;

/// <summary>What <see cref="TlsClientHello.TryReadServerName"/> found in the bytes read so far.</summary>
public enum TlsParseStatus
{
    /// <summary>The bytes are a valid start of a ClientHello: read more and call again.</summary>
    NeedMore,

    /// <summary>The bytes do not start a TLS handshake record.</summary>
    NotTls,

    /// <summary>A TLS record, but a malformed, oversized or unsupported ClientHello.</summary>
    Invalid,

    /// <summary>A complete ClientHello with no (host name) server name.</summary>
    NoServerName,

    /// <summary>A complete ClientHello with a host name server name.</summary>
    Found,
}

/// <summary>
/// Reads the server name (SNI) from a TLS ClientHello without terminating TLS. Hostile input is normal input: every
/// length is checked against what is left, the ClientHello may span several records, and one larger than
/// <see cref="MaxHelloBytes"/> is <see cref="TlsParseStatus.Invalid"/>.
/// </summary>
public static class TlsClientHello
{
    /// <summary>The largest ClientHello handshake message read (32 KiB); post-quantum key shares make them ~2 KiB.</summary>
    public const int MaxHelloBytes = 32 * 1024;

    private const byte HandshakeRecord = 0x16;
    private const byte ClientHelloType = 0x01;
    private const int RecordHeader = 5;
    private const int MaxRecordPayload = 16384 + 2048;

    /// <summary>Whether the first byte starts a TLS handshake record.</summary>
    /// <param name="first">The first byte the client sent.</param>
    public static bool LooksLikeTls(byte first) => first == HandshakeRecord;

    /// <summary>Reads the server name from the bytes the client sent so far.</summary>
    /// <param name="data">Everything the client sent so far, from its first byte.</param>
    /// <param name="serverName">The lowercase host name when <see cref="TlsParseStatus.Found"/>.</param>
    public static TlsParseStatus TryReadServerName(ReadOnlySpan<byte> data, out string? serverName)
    {
        serverName = null;
        if (data.Length == 0)
        {
            return TlsParseStatus.NeedMore;
        }

        if (data[0] != HandshakeRecord)
        {
            return TlsParseStatus.NotTls;
        }

        // Reassemble the handshake message from the payloads of consecutive handshake records.
        var handshake = new byte[Math.Min(data.Length, MaxHelloBytes + 4)];
        var filled = 0;
        var offset = 0;
        var expected = -1;
        while (true)
        {
            if (data.Length - offset < RecordHeader)
            {
                return TlsParseStatus.NeedMore;
            }

            var record = data.Slice(offset, RecordHeader);
            if (record[0] != HandshakeRecord || record[1] != 0x03)
            {
                return offset == 0 && record[1] != 0x03 ? TlsParseStatus.NotTls : TlsParseStatus.Invalid;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(record[3..]);
            if (length is 0 or > MaxRecordPayload)
            {
                return TlsParseStatus.Invalid;
            }

            var available = Math.Min(length, data.Length - offset - RecordHeader);
            var take = Math.Min(available, handshake.Length - filled);
            data.Slice(offset + RecordHeader, take).CopyTo(handshake.AsSpan(filled));
            filled += take;

            if (expected < 0 && filled >= 4)
            {
                if (handshake[0] != ClientHelloType)
                {
                    return TlsParseStatus.Invalid;
                }

                expected = (handshake[1] << 16) | (handshake[2] << 8) | handshake[3];
                if (expected > MaxHelloBytes || expected < 38)
                {
                    return TlsParseStatus.Invalid;
                }
            }

            if (expected >= 0 && filled >= expected + 4)
            {
                return ParseHello(handshake.AsSpan(4, expected), out serverName);
            }

            if (available < length)
            {
                return TlsParseStatus.NeedMore;
            }

            offset += RecordHeader + length;
        }
    }

    private static TlsParseStatus ParseHello(ReadOnlySpan<byte> hello, out string? serverName)
    {
        serverName = null;
        var reader = new SpanReader(hello);
        if (!reader.Skip(2 + 32)                        // client_version, random
            || !reader.TryReadVector8(out _)            // session_id
            || !reader.TryReadVector16(out var suites) || suites.Length == 0 || suites.Length % 2 != 0
            || !reader.TryReadVector8(out var compression) || compression.Length == 0)
        {
            return TlsParseStatus.Invalid;
        }

        if (reader.Remaining == 0)
        {
            return TlsParseStatus.NoServerName;
        }

        if (!reader.TryReadVector16(out var extensions) || reader.Remaining != 0)
        {
            return TlsParseStatus.Invalid;
        }

        var ext = new SpanReader(extensions);
        var seen = false;
        while (ext.Remaining > 0)
        {
            if (!ext.TryReadUInt16(out var type) || !ext.TryReadVector16(out var body))
            {
                return TlsParseStatus.Invalid;
            }

            if (type != 0)
            {
                continue;
            }

            if (seen)
            {
                // Two server_name extensions: ambiguous, so refuse rather than pick one.
                return TlsParseStatus.Invalid;
            }

            seen = true;
            var names = new SpanReader(body);
            if (!names.TryReadVector16(out var list) || names.Remaining != 0)
            {
                return TlsParseStatus.Invalid;
            }

            var entries = new SpanReader(list);
            while (entries.Remaining > 0)
            {
                if (!entries.TryReadByte(out var nameType) || !entries.TryReadVector16(out var name))
                {
                    return TlsParseStatus.Invalid;
                }

                if (nameType != 0)
                {
                    continue;
                }

                if (serverName is not null || name.Length == 0 || name.Length > 253)
                {
                    return TlsParseStatus.Invalid;
                }

                foreach (var b in name)
                {
                    if (b is < 0x21 or > 0x7e)
                    {
                        return TlsParseStatus.Invalid;
                    }
                }

                var text = Encoding.ASCII.GetString(name).TrimEnd('.').ToLowerInvariant();
                if (!HostName.IsValid(text))
                {
                    return TlsParseStatus.Invalid;
                }

                serverName = text;
            }
        }

        return serverName is null ? TlsParseStatus.NoServerName : TlsParseStatus.Found;
    }

    private ref struct SpanReader(ReadOnlySpan<byte> span)
    {
        private ReadOnlySpan<byte> _span = span;

        public readonly int Remaining => _span.Length;

        public bool Skip(int count)
        {
            if (_span.Length < count)
            {
                return false;
            }

            _span = _span[count..];
            return true;
        }

        public bool TryReadByte(out byte value)
        {
            value = 0;
            if (_span.Length < 1)
            {
                return false;
            }

            value = _span[0];
            _span = _span[1..];
            return true;
        }

        public bool TryReadUInt16(out int value)
        {
            value = 0;
            if (_span.Length < 2)
            {
                return false;
            }

            value = BinaryPrimitives.ReadUInt16BigEndian(_span);
            _span = _span[2..];
            return true;
        }

        public bool TryReadVector8(out ReadOnlySpan<byte> value)
        {
            value = default;
            if (!TryReadByte(out var length) || _span.Length < length)
            {
                return false;
            }

            value = _span[..length];
            _span = _span[length..];
            return true;
        }

        public bool TryReadVector16(out ReadOnlySpan<byte> value)
        {
            value = default;
            if (!TryReadUInt16(out var length) || _span.Length < length)
            {
                return false;
            }

            value = _span[..length];
            _span = _span[length..];
            return true;
        }
    }
}
