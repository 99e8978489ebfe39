using Berth.Objects;
using Berth.Replication;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers cluster storage (object storage shipped to PostgreSQL).</summary>
public static class ReplicationServiceCollectionExtensions
{
    /// <summary>
    /// Makes every durable object's storage durable in the cluster's PostgreSQL: binds <see cref="ReplicationOptions"/> from
    /// <paramref name="clusterSection"/> (<c>Berth:Cluster</c>: <c>Connection</c>, <c>Storage:RetentionDays</c>,
    /// <c>Storage:SnapshotAfterBytes</c>, <c>Storage:PruneInterval</c>; validated at start-up), registers the
    /// <see cref="IObjectStorageReplicator"/> the objects use and the background pruning of history older than the retention window.
    /// Call it only when <c>Berth:Cluster:Provider</c> is <c>postgres</c>; without it storage stays node-local.
    /// </summary>
    /// <remarks>
    /// Rows are scoped by the Orleans service id (<c>ClusterOptions.ServiceId</c>), as the alarm tables are, so services can share
    /// a database without sharing any object's storage. Rows written before the scope existed are adopted by the first service
    /// that attaches their object.
    /// </remarks>
    public static IServiceCollection AddBerthReplication(this IServiceCollection services, IConfiguration clusterSection)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(clusterSection);
        if (services.Any(d => d.ServiceType == typeof(StorageReplicator)))
        {
            return services;
        }

        services.AddOptions<ReplicationOptions>()
            .Configure(options =>
            {
                options.Connection = clusterSection["Connection"];
                clusterSection.GetSection("Storage").Bind(options);
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReplicationOptions>, ReplicationOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<StorageReplicator>();
        services.AddSingleton<IObjectStorageReplicator>(sp => sp.GetRequiredService<StorageReplicator>());
        services.AddHostedService<ReplicationPruner>();
        return services;
    }
}
