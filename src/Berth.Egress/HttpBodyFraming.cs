namespace Berth.Egress;

/// <summary>
/// Where one HTTP/1.x request's body ends (<c>Content-Length</c>, <c>Transfer-Encoding: chunked</c> or none), so the
/// proxy forwards exactly one request per connection and never a pipelined second one (which could name another host).
/// </summary>
internal sealed class HttpBodyFraming
{
    private enum State
    {
        Size,
        Extension,
        SizeLf,
        Data,
        DataCr,
        DataLf,
        TrailerStart,
        Trailer,
        EndLf,
        Done,
    }

    private long _remaining;
    private readonly bool _chunked;
    private State _state;
    private int _sizeDigits;

    private HttpBodyFraming(long length, bool chunked)
    {
        _remaining = length;
        _chunked = chunked;
        _state = chunked ? State.Size : length == 0 ? State.Done : State.Data;
    }

    /// <summary>Whether the whole body has been seen.</summary>
    public bool IsComplete => _state == State.Done;

    /// <summary>The framing of <paramref name="head"/>'s body, or <see langword="null"/> when it is ambiguous (a smuggling attempt).</summary>
    public static HttpBodyFraming? For(HttpRequestHead head)
    {
        var encodings = head.Headers.Where(h => string.Equals(h.Key, "Transfer-Encoding", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value.Trim()).ToList();
        var lengths = head.Headers.Where(h => string.Equals(h.Key, "Content-Length", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value.Trim()).ToList();
        if (encodings.Count > 0)
        {
            // Only plain chunked, and never with a Content-Length as well (RFC 9112 6.3: request smuggling).
            return encodings.Count == 1 && lengths.Count == 0 && string.Equals(encodings[0], "chunked", StringComparison.OrdinalIgnoreCase)
                ? new HttpBodyFraming(0, chunked: true)
                : null;
        }

        if (lengths.Count == 0)
        {
            return new HttpBodyFraming(0, chunked: false);
        }

        if (lengths.Distinct(StringComparer.Ordinal).Count() != 1 || lengths[0].Length is 0 or > 18 || !lengths[0].All(char.IsAsciiDigit))
        {
            return null;
        }

        return new HttpBodyFraming(long.Parse(lengths[0], System.Globalization.CultureInfo.InvariantCulture), chunked: false);
    }

    /// <summary>
    /// Consumes the next bytes of the stream after the head; returns how many of them belong to this request's body
    /// (the rest is what the client sent after it), or -1 when a chunked body is malformed.
    /// </summary>
    public int Consume(ReadOnlySpan<byte> data)
    {
        var i = 0;
        while (i < data.Length && _state != State.Done)
        {
            if (_state == State.Data)
            {
                var take = (int)Math.Min(_remaining, data.Length - i);
                i += take;
                _remaining -= take;
                if (_remaining == 0)
                {
                    _state = _chunked ? State.DataCr : State.Done;
                }

                continue;
            }

            var b = data[i++];
            switch (_state)
            {
                case State.Size:
                    if (char.IsAsciiHexDigit((char)b))
                    {
                        if (++_sizeDigits > 15)
                        {
                            return -1;
                        }

                        _remaining = (_remaining * 16) + (b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10);
                    }
                    else if (_sizeDigits > 0 && b is (byte)';' or (byte)' ' or (byte)'\t')
                    {
                        _state = State.Extension;
                    }
                    else if (_sizeDigits > 0 && b == '\r')
                    {
                        _state = State.SizeLf;
                    }
                    else
                    {
                        return -1;
                    }

                    break;
                case State.Extension:
                    if (b == '\r')
                    {
                        _state = State.SizeLf;
                    }
                    else if (b == '\n')
                    {
                        return -1;
                    }

                    break;
                case State.SizeLf:
                    if (b != '\n')
                    {
                        return -1;
                    }

                    _sizeDigits = 0;
                    _state = _remaining == 0 ? State.TrailerStart : State.Data;
                    break;
                case State.DataCr:
                    if (b != '\r')
                    {
                        return -1;
                    }

                    _state = State.DataLf;
                    break;
                case State.DataLf:
                    if (b != '\n')
                    {
                        return -1;
                    }

                    _state = State.Size;
                    break;
                case State.TrailerStart:
                    _state = b == '\r' ? State.EndLf : b == '\n' ? State.Done : State.Trailer;
                    if (_state == State.Done)
                    {
                        return -1;
                    }

                    break;
                case State.Trailer:
                    if (b == '\n')
                    {
                        _state = State.TrailerStart;
                    }

                    break;
                case State.EndLf:
                    if (b != '\n')
                    {
                        return -1;
                    }

                    _state = State.Done;
                    break;
            }
        }

        return i;
    }
}
