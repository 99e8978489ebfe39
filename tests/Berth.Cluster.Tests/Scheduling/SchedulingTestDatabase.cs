using Npgsql;

namespace Berth.Cluster.Tests.Scheduling;

/// <summary>A database of its own for one test (<c>berth_t_&lt;random&gt;</c>) on the PostgreSQL of env BERTH_POSTGRES, dropped at the end.</summary>
internal sealed class SchedulingTestDatabase : IAsyncDisposable
{
    private const string DefaultServer = "Host=127.0.0.1;Port=5432;Username=berth;Password=berth;Database=berth";

    private readonly string _server;
    private readonly string _name;

    private SchedulingTestDatabase(string server, string name, string connectionString)
    {
        _server = server;
        _name = name;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    public static async Task<SchedulingTestDatabase> CreateAsync()
    {
        var server = Environment.GetEnvironmentVariable("BERTH_POSTGRES") is { Length: > 0 } configured ? configured : DefaultServer;
        var name = $"berth_t_{Guid.NewGuid():N}"[..24];
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
        return new SchedulingTestDatabase(server, name, connectionString);
    }

    /// <summary>A node's own view of the database: its own connection pool, as a separate process would have.</summary>
    public SchedulingDatabase OpenNode(string scope = "test") => new(ConnectionString, scope);

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
