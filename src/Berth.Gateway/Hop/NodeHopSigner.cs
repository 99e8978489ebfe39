using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Berth.Gateway;

/// <summary>
/// Signs and checks the hop header (<see cref="HeaderName"/>) a node adds when it forwards a request through the gateway of
/// the node that hosts the container: <c>{sending node};{unix ms};{HMAC-SHA256}</c>, the HMAC keyed with the cluster's
/// secret over the sending node, the time and the <see cref="HopFields"/> (the receiving node, the method, the raw request
/// target with its query, the client's address and scheme). A header is valid for <see cref="Window"/> either side of the
/// receiving node's clock; a captured one can only be replayed to the same node for the same request.
/// </summary>
public sealed class NodeHopSigner
{
    /// <summary>The request header of a hop: <c>X-Berth-Hop</c>. Like every <c>X-Berth-</c> header it never reaches a container.</summary>
    public const string HeaderName = "X-Berth-Hop";

    /// <summary>How far (60 s) a hop's time may be from the receiving node's clock, either way.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    private readonly byte[] _secret;
    private readonly TimeProvider _time;

    /// <summary>Creates a signer.</summary>
    /// <param name="secret">The cluster's secret (at least 16 bytes); every node of the cluster must use the same one.</param>
    /// <param name="timeProvider">The clock the time is taken from and checked against.</param>
    /// <exception cref="ArgumentException"><paramref name="secret"/> is shorter than 16 bytes.</exception>
    public NodeHopSigner(ReadOnlySpan<byte> secret, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (secret.Length < 16)
        {
            throw new ArgumentException("The cluster's hop secret must be at least 16 bytes.", nameof(secret));
        }

        _secret = secret.ToArray();
        _time = timeProvider;
    }

    /// <summary>The header value for a request <paramref name="node"/> sends now.</summary>
    /// <param name="node">The sending node's ID (no <c>;</c>).</param>
    /// <param name="fields">What the header vouches for.</param>
    public string Create(string node, HopFields fields)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        var ms = _time.GetUtcNow().ToUnixTimeMilliseconds();
        return string.Create(CultureInfo.InvariantCulture, $"{node};{ms};{Mac(node, ms, fields)}");
    }

    /// <summary>
    /// Whether <paramref name="value"/> is a hop header this cluster signed for these <paramref name="fields"/> within <see cref="Window"/>.
    /// </summary>
    /// <param name="value">The header's value (<see langword="null"/> or malformed: false).</param>
    /// <param name="fields">The request as received, with this node as <see cref="HopFields.Destination"/>.</param>
    /// <param name="node">The sending node, when valid.</param>
    public bool TryVerify(string? value, HopFields fields, [NotNullWhen(true)] out string? node)
    {
        node = null;
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        var last = value.LastIndexOf(';');
        var first = last > 0 ? value.LastIndexOf(';', last - 1) : -1;
        if (first <= 0 || !long.TryParse(value.AsSpan(first + 1, last - first - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            return false;
        }

        var age = _time.GetUtcNow().ToUnixTimeMilliseconds() - ms;
        if (Math.Abs(age) > (long)Window.TotalMilliseconds)
        {
            return false;
        }

        var sender = value[..first];
        var expected = Encoding.ASCII.GetBytes(Mac(sender, ms, fields));
        var given = Encoding.ASCII.GetBytes(value[(last + 1)..]);
        if (!CryptographicOperations.FixedTimeEquals(expected, given))
        {
            return false;
        }

        node = sender;
        return true;
    }

    private string Mac(string node, long ms, HopFields fields)
    {
        var data = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{node}\n{ms}\n{fields.Destination}\n{fields.Method}\n{fields.Target}\n{fields.ForwardedFor}\n{fields.ForwardedProto}"));
        return Base64Url.EncodeToString(HMACSHA256.HashData(_secret, data));
    }
}

/// <summary>What a hop header vouches for, besides its sender and time.</summary>
/// <param name="Destination">The node the hop is sent to (its ID): a header is not valid at another node.</param>
/// <param name="Method">The request's method.</param>
/// <param name="Target">The request target as on the wire: the raw path and query, not canonicalised.</param>
/// <param name="ForwardedFor">The client's address as the sending node forwards it (<c>X-Forwarded-For</c>), if any.</param>
/// <param name="ForwardedProto">The client's scheme as the sending node forwards it (<c>X-Forwarded-Proto</c>), if any.</param>
public readonly record struct HopFields(string Destination, string Method, string Target, string? ForwardedFor, string? ForwardedProto);
