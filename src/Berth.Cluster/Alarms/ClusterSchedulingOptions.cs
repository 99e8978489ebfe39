using Microsoft.Extensions.Options;

namespace Berth.Cluster;

/// <summary>
/// How the nodes of a cluster share alarms and crons through PostgreSQL. Bound from <c>Berth:Cluster:Scheduling</c>
/// (appsettings or env vars such as <c>Berth__Cluster__Scheduling__PollInterval=00:00:02</c>); the connection string is
/// <c>Berth:Cluster:Connection</c>. Validated at start-up: an out-of-range value fails the start with a message naming the key.
/// </summary>
public sealed class ClusterSchedulingOptions
{
    /// <summary>Gets or sets the Npgsql connection string of the cluster's database (<c>Berth:Cluster:Connection</c>).</summary>
    /// <value>Required when <c>Berth:Cluster:Provider</c> is <c>postgres</c>; no default.</value>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// Gets or sets how often every node looks in <c>berth_alarms</c> for alarms no node woke (overdue past <see cref="OverdueGrace"/>,
    /// or armed by a node that is gone) and renews its own liveness. Part of the worst-case lag after a node death.
    /// </summary>
    /// <value>Default 5 seconds; between 100 milliseconds and 5 minutes.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long past its due time an alarm armed by a live node is left to that node's own timer before any
    /// node claims it. A double wake is harmless (the object's storage decides), so this only trades load for lag.
    /// </summary>
    /// <value>Default 5 seconds; between zero and 10 minutes.</value>
    public TimeSpan OverdueGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long a node may go without renewing its liveness row before its due alarms are claimed at once
    /// (without waiting for <see cref="OverdueGrace"/>).
    /// </summary>
    /// <value>Default 20 seconds; at least twice <see cref="PollInterval"/> and at most 1 hour.</value>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Gets or sets how long a claimed alarm is reserved to the node that claimed it while it wakes the object. A wake that
    /// fails releases the claim at once; a node that dies mid-wake leaves it to expire.
    /// </summary>
    /// <value>Default 30 seconds; between 1 second and 1 hour.</value>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the most alarms one node claims per poll.</summary>
    /// <value>Default 100; between 1 and 10,000.</value>
    public int ClaimBatchSize { get; set; } = 100;

    /// <summary>
    /// Gets or sets how long a cron occurrence's claim is kept in <c>berth_cron_claims</c>. A node whose clock or wake-up is
    /// later than this behind the others could fire an occurrence again, so keep it well above any clock skew or suspension.
    /// </summary>
    /// <value>Default 1 day; between 1 hour and 30 days.</value>
    public TimeSpan CronClaimRetention { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>Checks <see cref="ClusterSchedulingOptions"/> at start-up; each failure names its configuration key and the allowed range.</summary>
internal sealed class ClusterSchedulingOptionsValidator : IValidateOptions<ClusterSchedulingOptions>
{
    private const string Prefix = "Berth:Cluster:Scheduling:";

    public ValidateOptionsResult Validate(string? name, ClusterSchedulingOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add("Berth:Cluster:Connection is empty; with Berth:Cluster:Provider = postgres it must be an Npgsql connection string such as 'Host=db;Username=berth;Password=...;Database=berth'.");
        }

        Range(failures, nameof(options.PollInterval), options.PollInterval, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5), "100 milliseconds and 5 minutes");
        Range(failures, nameof(options.OverdueGrace), options.OverdueGrace, TimeSpan.Zero, TimeSpan.FromMinutes(10), "zero and 10 minutes");
        Range(failures, nameof(options.NodeTimeout), options.NodeTimeout, options.PollInterval * 2, TimeSpan.FromHours(1), "twice PollInterval and 1 hour");
        Range(failures, nameof(options.ClaimLease), options.ClaimLease, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), "1 second and 1 hour");
        Range(failures, nameof(options.CronClaimRetention), options.CronClaimRetention, TimeSpan.FromHours(1), TimeSpan.FromDays(30), "1 hour and 30 days");
        if (options.ClaimBatchSize is < 1 or > 10_000)
        {
            failures.Add($"{Prefix}{nameof(options.ClaimBatchSize)} is {options.ClaimBatchSize}; it must be between 1 and 10000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Range(List<string> failures, string key, TimeSpan value, TimeSpan min, TimeSpan max, string allowed)
    {
        if (value < min || value > max)
        {
            failures.Add($"{Prefix}{key} is {value}; it must be between {allowed}.");
        }
    }
}
