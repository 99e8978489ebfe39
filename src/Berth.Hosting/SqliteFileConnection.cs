using Microsoft.Data.Sqlite;

namespace Berth.Hosting;

/// <summary>
/// One SQLite connection to a node-level file (<c>usage.db</c>, <c>versions.db</c>), opened on first use with its schema
/// applied, and every operation on it run under one lock: safe for concurrent callers, and the file is released on dispose
/// (no pooling).
/// </summary>
internal sealed class SqliteFileConnection : IAsyncDisposable, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _schema;
    private readonly object _owner;
    private SqliteConnection? _connection;
    private bool _disposed;

    /// <param name="filePath">The absolute path of the file; its directory is created on first use.</param>
    /// <param name="schema">Pragmas and <c>CREATE TABLE IF NOT EXISTS</c> statements run when the connection opens.</param>
    /// <param name="owner">The store, named by <see cref="ObjectDisposedException"/> after dispose.</param>
    public SqliteFileConnection(string filePath, string schema, object owner)
    {
        FilePath = filePath;
        _schema = schema;
        _owner = owner;
    }

    public string FilePath { get; }

    /// <summary>Runs <paramref name="action"/> on the connection, alone.</summary>
    /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
    public async Task<T> WithConnectionAsync<T>(Func<SqliteConnection, Task<T>> action, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, _owner);
            return await action(_connection ??= await OpenAsync(cancellationToken));
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _gate.Wait();
        try
        {
            _disposed = true;
            _connection?.Dispose();
            _connection = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            _disposed = true;
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false, // the file is released on dispose
            DefaultTimeout = 30,
        }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var schema = connection.CreateCommand();
            schema.CommandText = _schema;
            await schema.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
