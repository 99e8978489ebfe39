using System.Text.RegularExpressions;
using Npgsql;

namespace Berth.Testing;

/// <summary>
/// A PostgreSQL database of its own for one test or benchmark run (<c>berth_t_…</c> by default), created on the server
/// <c>BERTH_POSTGRES</c> names (default: the local one from <c>scripts/postgres.sh</c>) and dropped on dispose.
/// </summary>
public sealed partial class TestDatabase : IAsyncDisposable
{
    private const string DefaultServer = "Host=127.0.0.1;Port=5432;Username=berth;Password=berth;Database=berth";
    private readonly string _server;

    private TestDatabase(string server, string name, string connectionString)
    {
        _server = server;
        Name = name;
        ConnectionString = connectionString;
    }

    /// <summary>The database's name: the prefix and 32 hex digits.</summary>
    public string Name { get; }

    /// <summary>
    /// A connection string to it: without pooling by default (node processes and test code connect to it in turn), with
    /// pooling when created so (in-process "nodes" that each keep a pool, as separate processes would).
    /// </summary>
    public string ConnectionString { get; }

    /// <summary>Creates the database.</summary>
    /// <param name="prefix">The name's prefix: lowercase letters, digits and <c>_</c>, starting with a letter.</param>
    /// <param name="pooling">Whether <see cref="ConnectionString"/> pools connections; default <see langword="false"/>.</param>
    /// <param name="cancellationToken">Abandons the creation.</param>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is not a plain identifier.</exception>
    /// <exception cref="NpgsqlException">The server is unreachable or refuses.</exception>
    public static async Task<TestDatabase> CreateAsync(string prefix = "berth_t_", bool pooling = false, CancellationToken cancellationToken = default)
    {
        if (!PrefixPattern().IsMatch(prefix))
        {
            throw new ArgumentException($"'{prefix}' is not a plain identifier prefix ([a-z][a-z0-9_]*).", nameof(prefix));
        }

        var server = Environment.GetEnvironmentVariable("BERTH_POSTGRES") is { Length: > 0 } env ? env : DefaultServer;
        var name = $"{prefix}{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var builder = new NpgsqlConnectionStringBuilder(server) { Database = name, Pooling = pooling };
        return new TestDatabase(server, name, builder.ConnectionString);
    }

    /// <summary>Runs <paramref name="sql"/> on a new connection and returns the first column of the first row.</summary>
    public async Task<T> ScalarAsync<T>(string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Runs <paramref name="sql"/> on a new connection and returns the first column of the first row as a number (count(*) and the like).</summary>
    public async Task<long> ScalarAsync(string sql, CancellationToken cancellationToken = default) =>
        Convert.ToInt64(await ScalarAsync<object>(sql, cancellationToken), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Runs <paramref name="sql"/> on a new connection.</summary>
    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Drops the database, forcing off whoever is still connected (this process's pooled connections to it first).</summary>
    public async ValueTask DisposeAsync()
    {
        await using (var pooled = new NpgsqlConnection(ConnectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        await using var connection = new NpgsqlConnection(_server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await command.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege && attempt < 20)
            {
                // FORCE cannot end a backend of a role this one is not a member of: an autovacuum worker in the database
                // (seen once under load). It ends on its own within moments.
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex PrefixPattern();
}
