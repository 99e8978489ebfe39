using System.Net;

namespace Berth.Egress;

/// <summary>Checks and splits the host names clients send (Host header, CONNECT authority, SNI).</summary>
internal static class HostName
{
    /// <summary>Whether <paramref name="host"/> is a DNS name (letters, digits, '-', '_', dots; labels of 1–63) or an IP literal.</summary>
    public static bool IsValid(string host)
    {
        var name = host.EndsWith('.') ? host[..^1] : host;
        if (name.Length is 0 or > 253)
        {
            return false;
        }

        if (IPAddress.TryParse(name, out _))
        {
            return true;
        }

        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="host"/> is an IP address in any spelling a resolver accepts: dotted IPv4, IPv6, and the
    /// inet_aton forms (<c>2130706433</c>, <c>0x7f.1</c>, <c>0177.0.0.1</c>, <c>127.1</c>). No top-level domain is numeric
    /// or starts with <c>0x</c>, so a name whose last label is all digits or hex is treated as an address.
    /// </summary>
    public static bool IsIpLiteral(string host)
    {
        var name = host.Trim().TrimEnd('.').Trim('[', ']');
        if (name.Length == 0)
        {
            return false;
        }

        if (IPAddress.TryParse(name, out _))
        {
            return true;
        }

        var last = name[(name.LastIndexOf('.') + 1)..];
        return last.Length > 0 && (last.All(char.IsAsciiDigit) || (last.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && last[2..].All(char.IsAsciiHexDigit)));
    }

    /// <summary>
    /// Splits an authority (<c>host</c>, <c>host:port</c>, <c>[v6]:port</c>) into a lowercase host and a port.
    /// </summary>
    /// <param name="authority">The authority as sent.</param>
    /// <param name="defaultPort">The port when the authority names none.</param>
    /// <param name="host">The host without brackets, lowercase.</param>
    /// <param name="port">The port (1–65535).</param>
    public static bool TrySplitAuthority(string authority, int defaultPort, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? host, out int port)
    {
        host = null;
        port = defaultPort;
        var text = authority.Trim();
        if (text.Length == 0 || text.Contains('@', StringComparison.Ordinal))
        {
            return false;
        }

        string hostPart;
        string? portPart = null;
        if (text[0] == '[')
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            hostPart = text[1..close];
            var rest = text[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                {
                    return false;
                }

                portPart = rest[1..];
            }

            if (!IPAddress.TryParse(hostPart, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return false;
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon >= 0)
            {
                if (text.IndexOf(':', StringComparison.Ordinal) != colon)
                {
                    return false;
                }

                portPart = text[(colon + 1)..];
                hostPart = text[..colon];
            }
            else
            {
                hostPart = text;
            }

            if (!IsValid(hostPart))
            {
                return false;
            }
        }

        if (portPart is not null)
        {
            if (portPart.Length is 0 or > 5 || !portPart.All(char.IsAsciiDigit) || !int.TryParse(portPart, System.Globalization.CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                return false;
            }
        }

        host = hostPart.TrimEnd('.').ToLowerInvariant();
        return host.Length > 0;
    }
}
