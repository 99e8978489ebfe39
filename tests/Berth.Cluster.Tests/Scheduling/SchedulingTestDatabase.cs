namespace Berth.Cluster.Tests.Scheduling;

/// <summary>
/// A database of its own for one scheduling test (Berth.Testing's <see cref="TestDatabase"/>, pooled), where each
/// in-process "node" opens its own <see cref="SchedulingDatabase"/>.
/// </summary>
internal sealed class SchedulingTestDatabase(TestDatabase database) : IAsyncDisposable
{
    public string ConnectionString => database.ConnectionString;

    public static async Task<SchedulingTestDatabase> CreateAsync() => new(await TestDatabase.CreateAsync(pooling: true));

    /// <summary>A node's own view of the database: its own connection pool, as a separate process would have.</summary>
    public SchedulingDatabase OpenNode(string scope = "test") => new(ConnectionString, scope);

    public Task<long> ScalarAsync(string sql) => database.ScalarAsync(sql);

    public ValueTask DisposeAsync() => database.DisposeAsync();
}
