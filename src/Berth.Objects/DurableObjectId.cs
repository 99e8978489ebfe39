using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Berth.Objects;

/// <summary>
/// The identity of a durable object: 64 lowercase hex characters. The first half identifies the object
/// (a hash of the name, or random); the second half is a checksum tied to the namespace, so an id from
/// another namespace is recognised.
/// </summary>
[GenerateSerializer]
[Immutable]
public readonly record struct DurableObjectId : ISpanParsable<DurableObjectId>
{
    /// <summary>The number of characters in an id.</summary>
    public const int Length = 64;

    private const int HalfBytes = 16;

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    [Id(0)]
    private readonly string? _value;

    private DurableObjectId(string value, string? name)
    {
        _value = value;
        Name = name;
    }

    /// <summary>Gets the name the id was made from, when it was made with <c>IdFromName</c> in this process.</summary>
    [Id(1)]
    public string? Name { get; }

    /// <summary>Parses an id.</summary>
    /// <exception cref="FormatException"><paramref name="s"/> is not 64 lowercase hex characters.</exception>
    public static DurableObjectId Parse(string s) => Parse(s, null);

    /// <inheritdoc />
    public static DurableObjectId Parse(string s, IFormatProvider? provider) =>
        TryParse(s, provider, out var id)
            ? id
            : throw new FormatException($"'{s}' is not a durable object id: an id is {Length} lowercase hex characters (0-9, a-f).");

    /// <inheritdoc />
    public static DurableObjectId Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Parse(s.ToString(), provider);

    /// <summary>Parses an id, returning <see langword="false"/> on bad input.</summary>
    public static bool TryParse([NotNullWhen(true)] string? s, out DurableObjectId result) => TryParse(s, null, out result);

    /// <inheritdoc />
    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out DurableObjectId result)
    {
        if (s is not null && IsValid(s))
        {
            result = new DurableObjectId(s, null);
            return true;
        }

        result = default;
        return false;
    }

    /// <inheritdoc />
    public static bool TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out DurableObjectId result) =>
        TryParse(s.ToString(), provider, out result);

    /// <summary>Returns the 64-character hex form.</summary>
    public override string ToString() => _value ?? new string('0', Length);

    /// <summary>Ids are equal when their hex forms are; <see cref="Name"/> does not take part.</summary>
    public bool Equals(DurableObjectId other) => string.Equals(ToString(), other.ToString(), StringComparison.Ordinal);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());

    internal static DurableObjectId FromName(string namespaceName, string name)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{namespaceName}\0{name}"), hash);
        return Create(namespaceName, hash[..HalfBytes], name);
    }

    internal static DurableObjectId NewUnique(string namespaceName)
    {
        Span<byte> random = stackalloc byte[HalfBytes];
        RandomNumberGenerator.Fill(random);
        return Create(namespaceName, random, null);
    }

    internal bool BelongsTo(string namespaceName)
    {
        var value = ToString();
        Span<byte> payload = stackalloc byte[HalfBytes];
        Convert.FromHexString(value.AsSpan(0, HalfBytes * 2), payload, out _, out _);
        Span<byte> check = stackalloc byte[HalfBytes];
        Checksum(namespaceName, payload, check);
        return Convert.ToHexStringLower(check).AsSpan().SequenceEqual(value.AsSpan(HalfBytes * 2));
    }

    private static DurableObjectId Create(string namespaceName, ReadOnlySpan<byte> payload, string? name)
    {
        Span<byte> bytes = stackalloc byte[HalfBytes * 2];
        payload.CopyTo(bytes);
        Checksum(namespaceName, payload, bytes[HalfBytes..]);
        return new DurableObjectId(Convert.ToHexStringLower(bytes), name);
    }

    private static void Checksum(string namespaceName, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        var nameBytes = Encoding.UTF8.GetBytes(namespaceName);
        var input = new byte[nameBytes.Length + 1 + payload.Length];
        nameBytes.CopyTo(input, 0);
        payload.CopyTo(input.AsSpan(nameBytes.Length + 1));
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input, hash);
        hash[..HalfBytes].CopyTo(destination);
    }

    private static bool IsValid(string s) =>
        s.Length == Length && s.AsSpan().IndexOfAnyExcept(HexDigits) < 0;
}
