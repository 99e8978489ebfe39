namespace Berth.Cluster.Tests;

public sealed class ClusterSchemaTests
{
    [Fact]
    public async Task ApplyAsync_ThreeNodesAtOnceThenAgain_CreatesEveryOrleansQueryOnce()
    {
        await using var database = await TestDatabase.CreateAsync();

        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ClusterSchema.ApplyAsync(database.ConnectionString, CancellationToken.None)));
        await ClusterSchema.ApplyAsync(database.ConnectionString, CancellationToken.None);

        // Every key Orleans 10's ADO.NET clustering reads at start ("Not all required queries found" otherwise).
        string[] keys =
        [
            "UpdateIAmAlivetimeKey", "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey", "MembershipReadRowKey",
            "MembershipReadAllKey", "DeleteMembershipTableEntriesKey", "GatewaysQueryKey", "CleanupDefunctSiloEntriesKey",
        ];
        var inList = string.Join(", ", keys.Select(k => $"'{k}'"));
        Assert.Equal(keys.Length, await database.ScalarAsync<long>($"SELECT count(*) FROM OrleansQuery WHERE QueryKey IN ({inList})"));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM berth_nodes"));
    }

    [Fact]
    public async Task ApplyAsync_UnreachableServer_ThrowsNpgsqlException()
    {
        var unreachable = $"Host=127.0.0.1;Port={Berth.Testing.BerthTestHost.FreePort()};Username=berth;Password=berth;Database=berth;Timeout=3";

        await Assert.ThrowsAnyAsync<Npgsql.NpgsqlException>(() => ClusterSchema.ApplyAsync(unreachable, CancellationToken.None));
    }
}
