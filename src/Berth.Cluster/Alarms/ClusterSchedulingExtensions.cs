using Berth.Cluster;
using Berth.Cluster.Cron;
using Berth.Objects.Alarms;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers cluster-wide alarms and crons on PostgreSQL.</summary>
public static class ClusterSchedulingExtensions
{
    /// <summary>
    /// Makes alarms and crons cluster-wide, for <c>Berth:Cluster:Provider</c> = <c>postgres</c>: the silo's alarm index becomes
    /// the shared table <c>berth_alarms</c> (instead of <c>{DataDirectory}/alarms.db</c>), every node claims the overdue alarms of
    /// dead nodes and wakes their objects wherever Orleans places them, and each cron occurrence is claimed in
    /// <c>berth_cron_claims</c> so that it fires on one node only. Tables are created at start if missing.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="clusterSection">The <c>Berth:Cluster</c> section: <c>Connection</c> (required) and the optional <c>Scheduling</c> subsection (<see cref="ClusterSchedulingOptions"/>).</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <remarks>Rows are scoped by the Orleans service id (<see cref="ClusterOptions.ServiceId"/>), so services can share a database.</remarks>
    public static IServiceCollection AddBerthClusterScheduling(this IServiceCollection services, IConfiguration clusterSection)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(clusterSection);
        if (services.Any(d => d.ServiceType == typeof(SchedulingDatabase)))
        {
            return services;
        }

        services.AddOptions<ClusterSchedulingOptions>()
            .Bind(clusterSection.GetSection("Scheduling"))
            .Configure(options => options.ConnectionString = clusterSection["Connection"] ?? options.ConnectionString)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ClusterSchedulingOptions>, ClusterSchedulingOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new SchedulingDatabase(
            sp.GetRequiredService<IOptions<ClusterSchedulingOptions>>().Value.ConnectionString,
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId));
        services.AddSingleton(sp => new SchedulingNode(
            sp.GetService<ILocalSiloDetails>()?.SiloAddress.ToParsableString() ?? $"{Environment.MachineName}/{Environment.ProcessId}"));

        // Alarms: the shared index replaces the node-local one (whichever of this and AddDurableObjects runs first).
        services.AddSingleton(sp => new PostgresAlarmIndex(
            sp.GetRequiredService<SchedulingDatabase>(),
            sp.GetRequiredService<SchedulingNode>().Id,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<PostgresAlarmIndex>>()));
        services.AddSingleton<IAlarmIndex>(sp => sp.GetRequiredService<PostgresAlarmIndex>());
        services.AddSingleton<IIncomingGrainCallFilter, AlarmIndexWriteFilter>();
        services.AddSingleton<AlarmClaimer>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<AlarmClaimer>());

        // Crons: one firing per occurrence for the cluster.
        services.TryAddSingleton<ICronOccurrenceClaims, PostgresCronClaims>();
        return services;
    }
}
