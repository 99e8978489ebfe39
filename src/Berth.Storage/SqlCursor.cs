using System.Buffers;
using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Berth.Storage;

/// <summary>
/// The result of <see cref="SqlStorage.Exec"/>: the rows of the last statement, read in full when the query ran.
/// Enumerating yields each row as a read-only dictionary from column name to value
/// (<see cref="long"/>, <see cref="double"/>, <see cref="string"/>, <see cref="byte"/>[] or <see langword="null"/>).
/// </summary>
public sealed class SqlCursor : IEnumerable<SqlRow>
{
    private readonly List<object?[]> _rows;
    private readonly Dictionary<string, int> _ordinals;
    private readonly JsonSerializerOptions _json;

    private SqlCursor(string[] columns, List<object?[]> rows, long rowsRead, long rowsWritten, JsonSerializerOptions json)
    {
        ColumnNames = columns;
        _rows = rows;
        RowsRead = rowsRead;
        RowsWritten = rowsWritten;
        _json = json;
        _ordinals = new Dictionary<string, int>(columns.Length, StringComparer.Ordinal);
        for (var i = 0; i < columns.Length; i++)
        {
            _ordinals.TryAdd(columns[i], i); // with duplicate names the first column wins
        }
    }

    /// <summary>Gets the column names of the last statement.</summary>
    public IReadOnlyList<string> ColumnNames { get; }

    /// <summary>Gets the number of rows the query's statements returned.</summary>
    public long RowsRead { get; }

    /// <summary>Gets the number of rows the query inserted, updated or deleted (triggers included).</summary>
    public long RowsWritten { get; }

    /// <summary>Gets the number of rows in the result.</summary>
    public int Count => _rows.Count;

    /// <summary>Gets the rows as arrays of values in column order.</summary>
    public IReadOnlyList<object?[]> Raw() => _rows;

    /// <summary>Gets the only row.</summary>
    /// <exception cref="InvalidOperationException">The result does not have exactly one row.</exception>
    public SqlRow One() => new(this, _rows[SingleIndex()]);

    /// <summary>Gets the only row mapped to <typeparamref name="T"/>: a scalar type reads the single column, other types map columns to properties by JSON name.</summary>
    /// <exception cref="InvalidOperationException">The result does not have exactly one row.</exception>
    public T One<T>() => Map<T>(_rows[SingleIndex()]);

    /// <summary>Gets all rows.</summary>
    public SqlRow[] ToArray() => [.. this];

    /// <summary>Gets all rows mapped to <typeparamref name="T"/> as in <see cref="One{T}"/>.</summary>
    public T[] ToArray<T>() => [.. _rows.Select(Map<T>)];

    /// <inheritdoc />
    public IEnumerator<SqlRow> GetEnumerator() => _rows.Select(row => new SqlRow(this, row)).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal bool TryGetOrdinal(string column, out int ordinal) => _ordinals.TryGetValue(column, out ordinal);

    private int SingleIndex() => _rows.Count == 1
        ? 0
        : throw new InvalidOperationException($"Expected exactly one row but the query returned {_rows.Count}.");

    private T Map<T>(object?[] row)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (IsScalar(typeof(T)))
            {
                if (row.Length != 1)
                {
                    throw new InvalidOperationException($"Reading {typeof(T)} needs exactly one column; the query returned {row.Length}.");
                }

                WriteValue(writer, row[0]);
            }
            else
            {
                writer.WriteStartObject();
                for (var i = 0; i < row.Length; i++)
                {
                    writer.WritePropertyName(ColumnNames[i]);
                    WriteValue(writer, row[i]);
                }

                writer.WriteEndObject();
            }
        }

        return JsonSerializer.Deserialize<T>(buffer.WrittenSpan, _json)!;
    }

    private static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(byte[])
            || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Guid);
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case double d:
                writer.WriteNumberValue(d);
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case byte[] bytes:
                writer.WriteBase64StringValue(bytes);
                break;
        }
    }

    internal sealed class Builder
    {
        private string[] _columns = [];
        private List<object?[]> _rows = [];
        private long _rowsRead;

        public void StartResult(string[] columns)
        {
            _columns = columns;
            _rows = [];
        }

        public void AddRow(object?[] row)
        {
            _rows.Add(row);
            _rowsRead++;
        }

        public SqlCursor Build(long rowsWritten, JsonSerializerOptions json) => new(_columns, _rows, _rowsRead, rowsWritten, json);
    }
}
