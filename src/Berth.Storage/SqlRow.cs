using System.Buffers;
using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Berth.Storage;

/// <summary>One row of a <see cref="SqlCursor"/>: a read-only dictionary from column name to value.</summary>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "A row is named for what it is; the dictionary view is a convenience.")]
public sealed class SqlRow : IReadOnlyDictionary<string, object?>
{
    private readonly SqlCursor _cursor;
    private readonly object?[] _values;

    internal SqlRow(SqlCursor cursor, object?[] values)
    {
        _cursor = cursor;
        _values = values;
    }

    /// <inheritdoc />
    public int Count => _values.Length;

    /// <inheritdoc />
    public IEnumerable<string> Keys => _cursor.ColumnNames;

    /// <inheritdoc />
    public IEnumerable<object?> Values => _values;

    /// <inheritdoc />
    public object? this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"The result has no column '{key}'.");

    /// <summary>Gets the value at column <paramref name="ordinal"/>.</summary>
    public object? this[int ordinal] => _values[ordinal];

    /// <inheritdoc />
    public bool ContainsKey(string key) => _cursor.TryGetOrdinal(key, out _);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value)
    {
        if (_cursor.TryGetOrdinal(key, out var ordinal))
        {
            value = _values[ordinal];
            return true;
        }

        value = null;
        return false;
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < _values.Length; i++)
        {
            yield return new KeyValuePair<string, object?>(_cursor.ColumnNames[i], _values[i]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
