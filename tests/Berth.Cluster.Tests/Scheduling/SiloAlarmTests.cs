using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Berth.Objects;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Cluster.Tests.Scheduling;

/// <summary>Records the alarms that fire in <see cref="SchedAlarmed"/> objects.</summary>
public sealed class SchedAlarmProbe
{
    public Channel<(string Id, DateTimeOffset ScheduledTime)> Fired { get; } = Channel.CreateUnbounded<(string, DateTimeOffset)>();
}

/// <summary>A durable object with an alarm, for the scheduling tests.</summary>
public interface ISchedAlarmed : IDurableObject
{
    Task SetAlarmAsync(DateTimeOffset time);
}

/// <summary>Sets its alarm on request and reports each firing to the probe.</summary>
public sealed class SchedAlarmed(SchedAlarmProbe probe) : DurableObject, ISchedAlarmed
{
    public Task SetAlarmAsync(DateTimeOffset time)
    {
        Context.SetAlarm(time);
        return Task.CompletedTask;
    }

    protected override Task AlarmAsync(AlarmInvocation invocation, CancellationToken cancellationToken)
    {
        probe.Fired.Writer.TryWrite((Context.Id.ToString(), invocation.ScheduledTime));
        return Task.CompletedTask;
    }
}

/// <summary>
/// The wiring on a real silo and real PostgreSQL: with the cluster's scheduling registered, an alarm's row is in berth_alarms
/// when SetAlarm's call returns, and an alarm armed by a node that is gone (a stopped silo: a later silo is a new node) is
/// woken by the claimer of another node and fires once in the object.
/// </summary>
public sealed class SiloAlarmTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "berth-tests", Guid.NewGuid().ToString("N"));
    private readonly SchedAlarmProbe _probe = new();
    private SchedulingTestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await SchedulingTestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task AlarmArmedByGoneNode_AnotherNodesClaimer_FiresItOnce()
    {
        DateTimeOffset due;
        using (var first = await StartSiloAsync())
        {
            var objects = first.Services.GetRequiredKeyedService<DurableObjectNamespace<ISchedAlarmed>>("ALARMED");
            due = DateTimeOffset.UtcNow.AddSeconds(3);
            await objects.Get(objects.IdFromName("x")).SetAlarmAsync(due);

            Assert.Equal(1, await _database.ScalarAsync("SELECT count(*) FROM berth_alarms")); // written before the call returned
            await first.StopAsync();
        }

        Assert.False(_probe.Fired.Reader.TryRead(out _));
        using var second = await StartSiloAsync();

        // Nothing activates the object on the new node: only its claimer can, from the row the gone node left.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var fired = await _probe.Fired.Reader.ReadAsync(timeout.Token);
        Assert.Equal(due.ToUnixTimeMilliseconds(), fired.ScheduledTime.ToUnixTimeMilliseconds());
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(_probe.Fired.Reader.TryRead(out _));
        Assert.Equal(0, await _database.ScalarAsync("SELECT count(*) FROM berth_alarms"));
        await second.StopAsync();
    }

    private async Task<IHost> StartSiloAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var cluster = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Provider"] = "postgres",
            ["Connection"] = _database.ConnectionString,
            ["Scheduling:PollInterval"] = "00:00:00.200",
            ["Scheduling:OverdueGrace"] = "00:00:01",
            ["Scheduling:NodeTimeout"] = "00:00:01",
        }).Build();
        builder.Services.AddSingleton(_probe);
        builder.Services.AddBerthClusterScheduling(cluster);
        builder.Services.AddDurableObject<ISchedAlarmed, SchedAlarmed>("ALARMED");
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(FreePort(), FreePort())
            .AddDurableObjects(options => options.DataDirectory = _dataDirectory));
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static int FreePort() => Berth.Testing.BerthTestHost.FreePort();
}
