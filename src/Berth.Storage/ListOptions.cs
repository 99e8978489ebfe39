namespace Berth.Storage;

/// <summary>Selects a range of keys for <see cref="ObjectStorage.List{T}(ListOptions?)"/>. Keys are ordered by their UTF-8 bytes.</summary>
public sealed record ListOptions
{
    /// <summary>Gets only keys that begin with this prefix.</summary>
    public string? Prefix { get; init; }

    /// <summary>Gets the first key to include (inclusive).</summary>
    public string? Start { get; init; }

    /// <summary>Gets the key to stop before (exclusive).</summary>
    public string? End { get; init; }

    /// <summary>Gets the largest number of entries to return; <see langword="null"/> for all.</summary>
    public int? Limit { get; init; }

    /// <summary>Gets whether to return keys in descending order; <see cref="Limit"/> then keeps the last keys.</summary>
    public bool Reverse { get; init; }
}
