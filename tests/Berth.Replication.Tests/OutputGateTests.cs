using System.Net;
using System.Net.Sockets;
using Berth.Objects;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Berth.Replication.Tests;

public interface IKeyValue : IDurableObject
{
    Task PutAsync(string key, string value);

    Task<string?> GetAsync(string key);

    Task<string> BookmarkAsync();
}

public sealed class KeyValueObject : DurableObject, IKeyValue
{
    public Task PutAsync(string key, string value)
    {
        Context.Storage.Put(key, value);
        return Task.CompletedTask;
    }

    public Task<string?> GetAsync(string key) => Task.FromResult(Context.Storage.Get<string>(key));

    public Task<string> BookmarkAsync() => Context.GetCurrentBookmarkAsync();
}

/// <summary>The output gate in a real (in-process) silo: a call returns only once its writes are in PostgreSQL.</summary>
public sealed class OutputGateTests
{
    [Fact]
    public async Task Call_ThatWrites_ReturnsOnlyAfterItsFramesAreInPostgres()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        using var host = await StartSiloAsync(database, out var directory);
        try
        {
            var objects = host.Services.GetRequiredService<DurableObjectNamespace<IKeyValue>>();
            var id = objects.IdFromName("gate");
            var key = $"{nameof(KeyValueObject)}/{id}";
            for (var i = 0; i < 20; i++)
            {
                await objects.Get(id).PutAsync($"k{i}", $"v{i}");
                var shipped = await database.ScalarAsync(
                    $"SELECT (SELECT count(*) FROM berth_storage_frames WHERE object_key = '{key}') + (SELECT count(*) FROM berth_storage_snapshots WHERE object_key = '{key}')");
                Assert.True(shipped >= i + 1, $"after call {i + 1} only {shipped} shipment(s) were in PostgreSQL");
            }

            Assert.Matches("^[0-9a-f]{16}-[0-9a-f]{16}$", await objects.Get(id).BookmarkAsync());

            // Another node (empty data directory) restores every acknowledged write while the silo still runs (no close happened).
            await using var other = TestNode.Create(database, scope: ServiceIdOf(host)); // a node of the same service
            var session = await other.OpenAsync(key);
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal($"v{i}", session.Storage.Get<string>($"k{i}"));
            }

            await session.CloseAsync();
        }
        finally
        {
            await host.StopAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Call_WhenShippingFails_FailsAndIsNotAcknowledged()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        using var host = await StartSiloAsync(database, out var directory);
        try
        {
            var objects = host.Services.GetRequiredService<DurableObjectNamespace<IKeyValue>>();
            var target = objects.GetByName("failing");
            await target.PutAsync("ok", "1");

            await database.ExecuteAsync("ALTER TABLE berth_storage_frames RENAME TO berth_storage_frames_away");
            await Assert.ThrowsAnyAsync<Exception>(() => target.PutAsync("lost", "2"));
            await Assert.ThrowsAnyAsync<Exception>(() => target.GetAsync("lost")); // a reader of the unshipped write is held back too

            await database.ExecuteAsync("ALTER TABLE berth_storage_frames_away RENAME TO berth_storage_frames");
            Assert.Equal("2", await target.GetAsync("lost")); // shipped at last, with the next call
        }
        finally
        {
            await host.StopAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Call_AfterAnotherNodeTookTheObjectOver_FailsAndTheObjectReactivatesFromTheStore()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        using var host = await StartSiloAsync(database, out var directory);
        try
        {
            var objects = host.Services.GetRequiredService<DurableObjectNamespace<IKeyValue>>();
            var id = objects.IdFromName("taken");
            await objects.Get(id).PutAsync("v", "silo");

            await using var other = TestNode.Create(database, scope: ServiceIdOf(host)); // the object moved while this silo was cut off
            var session = await other.OpenAsync($"{nameof(KeyValueObject)}/{id}");
            session.Storage.Put("v", "other node");
            await session.FlushAsync();
            await session.CloseAsync();

            await Assert.ThrowsAnyAsync<Exception>(() => objects.Get(id).PutAsync("v", "stale"));
            Assert.Equal("other node", await objects.Get(id).GetAsync("v")); // deactivated, reactivated, restored
        }
        finally
        {
            await host.StopAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Bookmarks_OnASingleNodeWithoutClusterStorage_AreNotSupported()
    {
        var directory = Path.Combine(Path.GetTempPath(), "berth-replication-tests", Guid.NewGuid().ToString("N"));
        using var host = await StartAsync(directory, configureServices: null);
        try
        {
            var objects = host.Services.GetRequiredService<DurableObjectNamespace<IKeyValue>>();
            await Assert.ThrowsAsync<NotSupportedException>(() => objects.GetByName("single").BookmarkAsync());
        }
        finally
        {
            await host.StopAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Task<IHost> StartSiloAsync(PostgresDatabase database, out string directory)
    {
        directory = Path.Combine(Path.GetTempPath(), "berth-replication-tests", Guid.NewGuid().ToString("N"));
        var cluster = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Connection"] = database.ConnectionString,
            ["Storage:RetentionDays"] = "7",
        }).Build();
        return StartAsync(directory, services => services.AddBerthReplication(cluster));
    }

    private static async Task<IHost> StartAsync(string directory, Action<IServiceCollection>? configureServices)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddDurableObject<IKeyValue, KeyValueObject>("KV");
        configureServices?.Invoke(builder.Services);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(FreePort(), FreePort())
            .AddDurableObjects(options => options.DataDirectory = directory));
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    // The silo's storage rows are scoped by its Orleans service id: a node standing in for another node of it uses the same.
    private static string ServiceIdOf(IHost host) => host.Services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;

    private static int FreePort() => Berth.Testing.BerthTestHost.FreePort();
}
