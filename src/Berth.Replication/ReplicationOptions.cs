using Microsoft.Extensions.Options;

namespace Berth.Replication;

/// <summary>
/// Settings of cluster storage: where objects' databases are shipped (PostgreSQL), how long their history is kept and how often
/// a whole-database snapshot starts a new generation. Bound from <c>Berth:Cluster:Connection</c> and <c>Berth:Cluster:Storage:*</c>.
/// </summary>
public sealed class ReplicationOptions
{
    /// <summary>The default retention of point-in-time history: 7 days.</summary>
    public const int DefaultRetentionDays = 7;

    /// <summary>The longest retention accepted: 3,650 days.</summary>
    public const int MaxRetentionDays = 3650;

    /// <summary>The default amount of shipped log after which a snapshot is taken: 64 MiB.</summary>
    public const long DefaultSnapshotAfterBytes = 64L * 1024 * 1024;

    /// <summary>Gets or sets the Npgsql connection string of the cluster's PostgreSQL (<c>Berth:Cluster:Connection</c>).</summary>
    /// <value>Required; no default.</value>
    public string? Connection { get; set; }

    /// <summary>Gets or sets how many days of history are kept for point-in-time recovery (<c>Berth:Cluster:Storage:RetentionDays</c>).</summary>
    /// <value>The default is <see cref="DefaultRetentionDays"/>; from 1 to <see cref="MaxRetentionDays"/>.</value>
    public int RetentionDays { get; set; } = DefaultRetentionDays;

    /// <summary>
    /// Gets or sets how many bytes of write-ahead log an object ships before its next flush uploads a snapshot of the whole database
    /// instead (and the local log is truncated) (<c>Berth:Cluster:Storage:SnapshotAfterBytes</c>).
    /// </summary>
    /// <value>The default is <see cref="DefaultSnapshotAfterBytes"/> (64 MiB); at least 1.</value>
    public long SnapshotAfterBytes { get; set; } = DefaultSnapshotAfterBytes;

    /// <summary>Gets or sets how often history older than the retention window is pruned (<c>Berth:Cluster:Storage:PruneInterval</c>).</summary>
    /// <value>The default is 1 hour; from 1 second to 1 day.</value>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets the retention window as a time span.</summary>
    public TimeSpan Retention => TimeSpan.FromDays(RetentionDays);
}

/// <summary>Validates <see cref="ReplicationOptions"/> at start-up with messages naming the setting.</summary>
internal sealed class ReplicationOptionsValidator : IValidateOptions<ReplicationOptions>
{
    public ValidateOptionsResult Validate(string? name, ReplicationOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Connection))
        {
            errors.Add("Berth:Cluster:Connection (berth.jsonc cluster.connection) is required when Berth:Cluster:Provider is postgres: an Npgsql connection string.");
        }

        if (options.RetentionDays is < 1 or > ReplicationOptions.MaxRetentionDays)
        {
            // An app setting only (appsettings.json, environment): berth.jsonc has no field for it, so the message names none.
            errors.Add($"Berth:Cluster:Storage:RetentionDays (appsettings.json, or the environment variable Berth__Cluster__Storage__RetentionDays) is {options.RetentionDays}; allowed: 1 to {ReplicationOptions.MaxRetentionDays} days.");
        }

        if (options.SnapshotAfterBytes < 1)
        {
            errors.Add($"Berth:Cluster:Storage:SnapshotAfterBytes is {options.SnapshotAfterBytes}; allowed: at least 1 byte.");
        }

        if (options.PruneInterval < TimeSpan.FromSeconds(1) || options.PruneInterval > TimeSpan.FromDays(1))
        {
            errors.Add($"Berth:Cluster:Storage:PruneInterval is {options.PruneInterval}; allowed: 00:00:01 to 1.00:00:00.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
