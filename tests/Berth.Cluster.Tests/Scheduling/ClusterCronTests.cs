using System.Collections.Concurrent;
using Berth.Cluster.Cron;
using Berth.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Cluster.Tests.Scheduling;

/// <summary>Crons in a cluster: real cron services and real PostgreSQL claims, one fake clock for all nodes.</summary>
public sealed class ClusterCronTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-22T10:00:30Z", System.Globalization.CultureInfo.InvariantCulture));
    private SchedulingTestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await SchedulingTestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task ThreeNodes_SharedDatabase_EachOccurrenceFiresOnceForTheCluster()
    {
        var fired = new ConcurrentQueue<(string Node, string Trigger, DateTimeOffset Occurrence)>();
        var attempts = new CountingClaims.Counter();
        var hosts = new List<IHost>();
        try
        {
            foreach (var node in new[] { "node-a", "node-b", "node-c" })
            {
                hosts.Add(await StartNodeAsync(node, fired, attempts));
            }

            // Five occurrences of the every-minute trigger, two of the every-two-minutes one, stepping the shared clock by a second.
            for (var second = 0; second < 5 * 60; second++)
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(5);
            }

            await WaitUntilAsync(() => attempts.Count == 3 * (5 + 2));
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.StopAsync();
                host.Dispose();
            }
        }

        var start = DateTimeOffset.Parse("2026-11-22T10:01:00Z", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(
            Enumerable.Range(0, 5).Select(i => ("* * * * *", start.AddMinutes(i)))
                .Concat([("*/2 * * * *", start.AddMinutes(1)), ("*/2 * * * *", start.AddMinutes(3))])
                .Order(),
            fired.Select(f => (f.Trigger, f.Occurrence)).Order());
        Assert.Equal(7, await _database.ScalarAsync("SELECT count(*) FROM berth_cron_claims"));
    }

    [Fact]
    public async Task TwoTriggersSameExpression_ThreeNodes_EachFiresOncePerOccurrence()
    {
        var fired = new ConcurrentQueue<(string Node, string Trigger, DateTimeOffset Occurrence)>();
        var attempts = new CountingClaims.Counter();
        var hosts = new List<IHost>();
        try
        {
            foreach (var node in new[] { "node-a", "node-b", "node-c" })
            {
                hosts.Add(await StartNodeAsync(node, fired, attempts, sameExpressionTwice: true));
            }

            for (var second = 0; second < 60; second++)
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(5);
            }

            await WaitUntilAsync(() => attempts.Count == 3 * 2);
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.StopAsync();
                host.Dispose();
            }
        }

        Assert.Equal(["first", "second"], fired.Select(f => f.Trigger).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Claims_OlderThanRetention_ArePruned()
    {
        var options = Options.Create(new ClusterSchedulingOptions { ConnectionString = _database.ConnectionString, CronClaimRetention = TimeSpan.FromHours(1) });
        await using var database = _database.OpenNode();
        var claims = new PostgresCronClaims(database, new SchedulingNode("node-a"), options, _time, NullLogger<PostgresCronClaims>.Instance);
        var first = _time.GetUtcNow();
        Assert.True(await claims.TryClaimAsync("code/0/* * * * *", first, CancellationToken.None));
        Assert.False(await claims.TryClaimAsync("code/0/* * * * *", first, CancellationToken.None));

        _time.Advance(TimeSpan.FromHours(2));
        Assert.True(await claims.TryClaimAsync("code/0/* * * * *", _time.GetUtcNow(), CancellationToken.None));

        Assert.Equal(1, await _database.ScalarAsync("SELECT count(*) FROM berth_cron_claims"));
    }

    [Fact]
    public async Task ClaimDatabaseUnreachable_OccurrenceSkippedNotFired()
    {
        var fired = new ConcurrentQueue<(string Node, string Trigger, DateTimeOffset Occurrence)>();
        var attempts = new CountingClaims.Counter();
        using var host = await StartNodeAsync("node-a", fired, attempts, connection: "Host=127.0.0.1;Port=1;Username=berth;Password=berth;Database=none;Timeout=2");
        for (var second = 0; second < 60; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(5);
        }

        await WaitUntilAsync(() => attempts.Failed == 1);
        await host.StopAsync();

        Assert.Empty(fired);
    }

    private async Task<IHost> StartNodeAsync(
        string node,
        ConcurrentQueue<(string Node, string Trigger, DateTimeOffset Occurrence)> fired,
        CountingClaims.Counter attempts,
        bool sameExpressionTwice = false,
        string? connection = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var cluster = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Provider"] = "postgres",
            ["Connection"] = connection ?? _database.ConnectionString,
        }).Build();
        builder.Services.AddSingleton<TimeProvider>(_time);
        builder.Services.AddBerthClusterScheduling(cluster);
        builder.Services.AddSingleton(new SchedulingNode(node));
        builder.Services.AddSingleton<ICronOccurrenceClaims>(sp => new CountingClaims(
            ActivatorUtilities.CreateInstance<PostgresCronClaims>(sp), attempts));
        if (sameExpressionTwice)
        {
            builder.Services.AddCronTrigger("* * * * *", Record("first"));
            builder.Services.AddCronTrigger("* * * * *", Record("second"));
        }
        else
        {
            builder.Services.AddCronTrigger("* * * * *", Record("* * * * *"));
            builder.Services.AddCronTrigger("*/2 * * * *", Record("*/2 * * * *"));
        }

        var host = builder.Build();
        await host.StartAsync();
        return host;

        Func<ScheduledEvent, IServiceProvider, CancellationToken, Task> Record(string trigger) => (e, _, _) =>
        {
            fired.Enqueue((node, trigger, e.ScheduledTime));
            return Task.CompletedTask;
        };
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "timed out waiting for the cron services");
            await Task.Delay(20);
        }

        await Task.Delay(200); // anything that would fire late after its claim has had the chance to
    }

    /// <summary>The real claims, counted, so the test knows when every node has asked.</summary>
    private sealed class CountingClaims(ICronOccurrenceClaims inner, CountingClaims.Counter counter) : ICronOccurrenceClaims
    {
        public async Task<bool> TryClaimAsync(string triggerKey, DateTimeOffset occurrence, CancellationToken cancellationToken)
        {
            try
            {
                return await inner.TryClaimAsync(triggerKey, occurrence, cancellationToken);
            }
            catch
            {
                Interlocked.Increment(ref counter.Failed);
                throw;
            }
            finally
            {
                Interlocked.Increment(ref counter.Attempts);
            }
        }

        public sealed class Counter
        {
            public int Attempts;
            public int Failed;

            public int Count => Volatile.Read(ref Attempts);
        }
    }
}
