using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Berth.Storage;

/// <summary>
/// Synchronous SQL on an object's database. Statements run on SQLite directly so that positional
/// <c>?</c> parameters bind in order. Tables named <c>_berth_*</c> are reserved, and statements that
/// would escape the storage's guarantees (transactions, ATTACH, pragmas that change the limit or journal) are refused.
/// </summary>
public sealed class SqlStorage
{
    private static readonly HashSet<string> GuardedPragmas = new(StringComparer.OrdinalIgnoreCase)
    {
        "max_page_count", "page_size", "journal_mode", "locking_mode", "synchronous", "writable_schema",
    };

    private readonly ObjectStorage _storage;
    private readonly SqliteConnection _connection;
    private bool _userStatement;
    private string? _refusal;

    internal SqlStorage(ObjectStorage storage, SqliteConnection connection)
    {
        _storage = storage;
        _connection = connection;
        raw.sqlite3_set_authorizer(connection.Handle, Authorize, null);
    }

    /// <summary>
    /// Runs <paramref name="query"/> (one or more statements separated by <c>;</c>) and returns the rows of the last one.
    /// Each statement takes its <c>?</c> parameters from <paramref name="bindings"/> in order.
    /// A query of several statements is atomic.
    /// </summary>
    /// <param name="query">The SQL text.</param>
    /// <param name="bindings">Values for the <c>?</c> parameters: null, integers, floating point, bool, string, byte arrays, enums, <see cref="Guid"/>, <see cref="DateTime"/>, <see cref="DateTimeOffset"/>.</param>
    /// <exception cref="SqliteException">SQLite rejected the statement.</exception>
    /// <exception cref="InvalidOperationException">The statement touches a reserved table or is not allowed.</exception>
    /// <exception cref="StorageLimitExceededException">The database would exceed its size limit.</exception>
    public SqlCursor Exec(string query, params object?[] bindings)
    {
        ArgumentNullException.ThrowIfNull(query);
        bindings ??= [null];
        _storage.ThrowIfDisposed();
        var db = _connection.Handle!;
        var changesBefore = raw.sqlite3_total_changes(db);
        var builder = new SqlCursor.Builder();
        try
        {
            using var first = Prepare(db, query, out var tail);
            if (first is null)
            {
                return Finish(db, bindings, 0, builder, changesBefore);
            }

            // Several statements run in one transaction so that a failure leaves nothing behind.
            return string.IsNullOrWhiteSpace(tail)
                ? ExecRest(db, first, tail, bindings, builder, changesBefore)
                : _storage.Transaction(_ => ExecRest(db, first, tail, bindings, builder, changesBefore));
        }
        catch (SqliteException e) when (e.SqliteErrorCode == raw.SQLITE_FULL)
        {
            throw _storage.LimitExceeded(e);
        }
    }

    private SqlCursor ExecRest(sqlite3 db, sqlite3_stmt first, string tail, object?[] bindings, SqlCursor.Builder builder, int changesBefore)
    {
        var used = Bind(first, bindings, 0);
        Step(db, first, builder);
        while (Prepare(db, tail, out var next) is { } statement)
        {
            using (statement)
            {
                used = Bind(statement, bindings, used);
                Step(db, statement, builder);
            }

            tail = next;
        }

        return Finish(db, bindings, used, builder, changesBefore);
    }

    private SqlCursor Finish(sqlite3 db, object?[] bindings, int used, SqlCursor.Builder builder, int changesBefore)
    {
        if (used != bindings.Length)
        {
            throw new ArgumentException($"The query has {used} parameter(s) but {bindings.Length} binding(s) were given.", nameof(bindings));
        }

        return builder.Build(raw.sqlite3_total_changes(db) - changesBefore, _storage.JsonOptions);
    }

    private sqlite3_stmt? Prepare(sqlite3 db, string sql, out string tail)
    {
        while (true)
        {
            _userStatement = true;
            _refusal = null;
            int rc;
            sqlite3_stmt statement;
            try
            {
                rc = raw.sqlite3_prepare_v2(db, sql, out statement, out tail);
            }
            finally
            {
                _userStatement = false;
            }

            if (rc == raw.SQLITE_AUTH && _refusal is not null)
            {
                statement.Dispose();
                throw new InvalidOperationException(_refusal);
            }

            SqliteException.ThrowExceptionForRC(rc, db);
            if (!statement.IsInvalid)
            {
                return statement;
            }

            // Only whitespace or a comment was left.
            statement.Dispose();
            if (string.IsNullOrWhiteSpace(tail) || tail == sql)
            {
                return null;
            }

            sql = tail;
        }
    }

    private void Step(sqlite3 db, sqlite3_stmt statement, SqlCursor.Builder builder)
    {
        var columns = raw.sqlite3_column_count(statement);
        if (columns > 0)
        {
            var names = new string[columns];
            for (var i = 0; i < columns; i++)
            {
                names[i] = raw.sqlite3_column_name(statement, i).utf8_to_string();
            }

            builder.StartResult(names);
        }

        while (true)
        {
            _userStatement = true; // a schema change makes SQLite re-prepare inside step
            int rc;
            try
            {
                rc = raw.sqlite3_step(statement);
            }
            finally
            {
                _userStatement = false;
            }

            if (rc == raw.SQLITE_DONE)
            {
                return;
            }

            if (rc != raw.SQLITE_ROW)
            {
                if (rc == raw.SQLITE_AUTH && _refusal is not null)
                {
                    throw new InvalidOperationException(_refusal);
                }

                SqliteException.ThrowExceptionForRC(rc, db);
            }

            var row = new object?[columns];
            for (var i = 0; i < columns; i++)
            {
                row[i] = raw.sqlite3_column_type(statement, i) switch
                {
                    raw.SQLITE_INTEGER => raw.sqlite3_column_int64(statement, i),
                    raw.SQLITE_FLOAT => raw.sqlite3_column_double(statement, i),
                    raw.SQLITE_TEXT => raw.sqlite3_column_text(statement, i).utf8_to_string(),
                    raw.SQLITE_BLOB => raw.sqlite3_column_blob(statement, i).ToArray(),
                    _ => null,
                };
            }

            builder.AddRow(row);
        }
    }

    private static int Bind(sqlite3_stmt statement, object?[] bindings, int used)
    {
        var count = raw.sqlite3_bind_parameter_count(statement);
        for (var index = 1; index <= count; index++, used++)
        {
            if (used >= bindings.Length)
            {
                throw new ArgumentException($"The query has more parameters than the {bindings.Length} binding(s) given.", nameof(bindings));
            }

            var rc = bindings[used] switch
            {
                null or DBNull => raw.sqlite3_bind_null(statement, index),
                bool b => raw.sqlite3_bind_int64(statement, index, b ? 1 : 0),
                string s => raw.sqlite3_bind_text(statement, index, s),
                byte[] bytes => raw.sqlite3_bind_blob(statement, index, bytes),
                ReadOnlyMemory<byte> memory => raw.sqlite3_bind_blob(statement, index, memory.Span),
                double d => raw.sqlite3_bind_double(statement, index, d),
                float f => raw.sqlite3_bind_double(statement, index, f),
                decimal m => raw.sqlite3_bind_double(statement, index, (double)m),
                ulong u => raw.sqlite3_bind_int64(statement, index, checked((long)u)),
                Enum e => raw.sqlite3_bind_int64(statement, index, Convert.ToInt64(e, CultureInfo.InvariantCulture)),
                sbyte or byte or short or ushort or int or uint or long => raw.sqlite3_bind_int64(statement, index, Convert.ToInt64(bindings[used], CultureInfo.InvariantCulture)),
                Guid g => raw.sqlite3_bind_text(statement, index, g.ToString()),
                DateTimeOffset t => raw.sqlite3_bind_text(statement, index, t.ToString("O", CultureInfo.InvariantCulture)),
                DateTime t => raw.sqlite3_bind_text(statement, index, t.ToString("O", CultureInfo.InvariantCulture)),
                var other => throw new ArgumentException($"Binding {used} has type {other.GetType()}, which SQL storage cannot store.", nameof(bindings)),
            };
            if (rc != raw.SQLITE_OK)
            {
                throw new ArgumentException($"Binding {used} could not be bound (SQLite code {rc}).", nameof(bindings));
            }
        }

        return used;
    }

    // Consulted by SQLite while it compiles a statement; only user statements are checked.
    private int Authorize(object userData, int action, utf8z first, utf8z second, utf8z database, utf8z trigger)
    {
        if (!_userStatement)
        {
            return raw.SQLITE_OK;
        }

        var a = first.utf8_to_string();
        var b = second.utf8_to_string();
        _refusal = action switch
        {
            raw.SQLITE_TRANSACTION or raw.SQLITE_SAVEPOINT =>
                "SQL storage does not accept BEGIN, COMMIT, ROLLBACK or SAVEPOINT; use ObjectStorage.Transaction.",
            raw.SQLITE_ATTACH or raw.SQLITE_DETACH => "SQL storage does not accept ATTACH or DETACH.",
            raw.SQLITE_PRAGMA when a is not null && !_storage.AutomaticCheckpoints && IsCheckpointPragma(a) =>
                $"SQL storage does not allow PRAGMA {a} when the write-ahead log is shipped (cluster storage).",
            raw.SQLITE_PRAGMA when a is not null && GuardedPragmas.Contains(a) && (b is not null || a.Equals("writable_schema", StringComparison.OrdinalIgnoreCase)) =>
                $"SQL storage does not allow changing PRAGMA {a}.",
            _ when IsReserved(a) || IsReserved(b) =>
                $"Names starting with '{ObjectStorage.ReservedPrefix}' are reserved for Berth's own tables.",
            _ => null,
        };
        return _refusal is null ? raw.SQLITE_OK : raw.SQLITE_DENY;
    }

    private static bool IsCheckpointPragma(string name) =>
        name.Equals("wal_checkpoint", StringComparison.OrdinalIgnoreCase) || name.Equals("wal_autocheckpoint", StringComparison.OrdinalIgnoreCase);

    private static bool IsReserved(string? name) =>
        name is not null && name.StartsWith(ObjectStorage.ReservedPrefix, StringComparison.OrdinalIgnoreCase);
}
