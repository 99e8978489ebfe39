using System.Collections.Frozen;
using System.Text;

namespace Berth.Gateway.Http1;

/// <summary>
/// The header values of a connection's previous response, by position: a container answers the same endpoint with the
/// same headers (<c>Content-Type: text/plain</c>, <c>Server: Kestrel</c>), so the next response's value is compared
/// byte for byte and the string reused, as Kestrel does for request headers on a keep-alive connection.
/// </summary>
internal sealed class HeaderValueCache
{
    private const int Slots = 32;
    private readonly string?[] _names = new string?[Slots];
    private readonly string?[] _values = new string?[Slots];

    /// <summary>The value as a string: the previous response's at this position when the name and the bytes match.</summary>
    public string Get(int position, string name, ReadOnlySpan<byte> value)
    {
        if (position < Slots)
        {
            if (ReferenceEquals(_names[position], name) && _values[position] is { } cached && System.Text.Ascii.Equals(value, cached))
            {
                return cached;
            }

            var made = Encoding.Latin1.GetString(value);
            _names[position] = name;
            _values[position] = made;
            return made;
        }

        return Encoding.Latin1.GetString(value);
    }
}

/// <summary>The names of common response headers, so a response's header names are looked up rather than allocated.</summary>
internal static class KnownHeaderNames
{
    private static readonly FrozenDictionary<string, string> Names = new[]
    {
        "Accept-Ranges", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods",
        "Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Access-Control-Max-Age", "Age", "Allow", "Alt-Svc",
        "Cache-Control", "Connection", "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
        "Content-Location", "Content-Range", "Content-Security-Policy", "Content-Type", "Date", "ETag", "Expires", "Keep-Alive",
        "Last-Modified", "Link", "Location", "Pragma", "Proxy-Authenticate", "Proxy-Connection", "Referrer-Policy", "Retry-After",
        "Server", "Set-Cookie", "Strict-Transport-Security", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Vary", "Via",
        "WWW-Authenticate", "X-Content-Type-Options", "X-Frame-Options", "X-Powered-By", "X-Request-Id",
    }.ToFrozenDictionary(n => n, n => n, StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Lookup =
        Names.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The header name for these bytes (a token, so ASCII): a shared string when it is a common one.</summary>
    public static string Get(ReadOnlySpan<byte> name)
    {
        if (name.Length <= 64)
        {
            Span<char> chars = stackalloc char[name.Length];
            for (var i = 0; i < name.Length; i++)
            {
                chars[i] = (char)name[i];
            }

            if (Lookup.TryGetValue(chars, out var known))
            {
                return known;
            }

            return new string(chars);
        }

        return Encoding.ASCII.GetString(name);
    }
}
