using System.Globalization;

namespace Berth.Replication;

/// <summary>A point in an object's storage history: a generation (one snapshot and the transactions shipped after it) and a sequence number in it.</summary>
/// <param name="Generation">The generation; 0 is the empty database before the first write.</param>
/// <param name="Sequence">The number of shipments after the generation's snapshot (0 = the snapshot itself).</param>
internal readonly record struct Bookmark(long Generation, long Sequence) : IComparable<Bookmark>
{
    private const int Digits = 16;

    public static Bookmark Empty => new(0, 0);

    /// <summary>Parses a bookmark made by <see cref="ToString"/>.</summary>
    /// <exception cref="ArgumentException">The text is not a bookmark.</exception>
    public static Bookmark Parse(string text)
    {
        if (text is { Length: Digits * 2 + 1 } && text[Digits] == '-'
            && long.TryParse(text.AsSpan(0, Digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var generation)
            && long.TryParse(text.AsSpan(Digits + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var sequence)
            && generation >= 0 && sequence >= 0)
        {
            return new Bookmark(generation, sequence);
        }

        throw new ArgumentException("The text is not a storage bookmark (GetCurrentBookmarkAsync or GetBookmarkForTimeAsync make them).", nameof(text));
    }

    public int CompareTo(Bookmark other) =>
        Generation != other.Generation ? Generation.CompareTo(other.Generation) : Sequence.CompareTo(other.Sequence);

    /// <summary>Formats the bookmark: 33 characters that sort in history order.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Generation:x16}-{Sequence:x16}");
}
