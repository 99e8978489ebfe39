using System.Collections.Frozen;

namespace Berth.Hosting;

/// <summary>
/// An app's <c>berth.jsonc</c> after parsing and validation. Immutable: produced by
/// <see cref="BerthConfigFile"/>, never edited afterwards.
/// </summary>
public sealed record BerthAppConfig
{
    /// <summary>The app name (<c>name</c>); carried by every container and image as the <see cref="BerthLabels.App"/> label.</summary>
    public required string Name { get; init; }

    /// <summary>Full path of the file this came from; <see langword="null"/> when parsed from a string.</summary>
    public string? FilePath { get; init; }

    /// <summary>Container classes (<c>containers</c>), in file order.</summary>
    public IReadOnlyList<ContainerConfig> Containers { get; init; } = [];

    /// <summary>Cron expressions (<c>triggers.crons</c>) dispatched to every registered <see cref="IScheduledHandler"/>.</summary>
    public IReadOnlyList<string> Crons { get; init; } = [];

    /// <summary>Plain variables (<c>vars</c>), also exposed as configuration keys by <see cref="BerthConfigExtensions.AddBerthConfig(Microsoft.Extensions.Hosting.IHostApplicationBuilder, string)"/>.</summary>
    public IReadOnlyDictionary<string, string> Vars { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>
    /// How many of each class's newest versions image garbage collection keeps (<c>keep_versions</c>, 1–1000); it sets
    /// <see cref="RegistryOptions.KeepVersions"/> with the lowest precedence (the <c>Berth:Registry:KeepVersions</c> key).
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: <see cref="RegistryOptions.KeepVersions"/> keeps its own default (5).</value>
    public int? KeepVersions { get; init; }

    /// <summary>
    /// The cluster (<c>cluster</c>): its fields feed <c>Berth:Cluster:Provider</c>, <c>Berth:Cluster:Connection</c>,
    /// <c>Berth:Cluster:ClusterId</c> and <c>Berth:Cluster:Forwarding</c> with the lowest precedence (see docs/cluster.md).
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: one node (localhost clustering) unless configuration says otherwise.</value>
    public ClusterConfig? Cluster { get; init; }
    /// <summary>The <c>metering</c> section (rates and allowances, docs/metering.md); <see langword="null"/> when absent.</summary>
    public MeteringConfig? Metering { get; init; }

    /// <summary>The container class named <paramref name="className"/> (ordinal match), or <see langword="null"/>.</summary>
    public ContainerConfig? FindContainer(string className) =>
        Containers.FirstOrDefault(c => string.Equals(c.ClassName, className, StringComparison.Ordinal));
}

/// <summary>The <c>cluster</c> object of <c>berth.jsonc</c>; a <see langword="null"/> field is not set by the file.</summary>
/// <param name="Provider"><c>provider</c>: <c>localhost</c> or <c>postgres</c>.</param>
/// <param name="Connection"><c>connection</c>: the Npgsql connection string of the cluster's PostgreSQL database.</param>
/// <param name="ClusterId"><c>cluster_id</c>: the Orleans cluster and service ID (default: the app's name).</param>
/// <param name="Forwarding"><c>forwarding</c>: <c>direct</c> or <c>node</c>, how a node reaches a container another node runs (default: <c>direct</c>).</param>
public sealed record ClusterConfig(string? Provider, string? Connection, string? ClusterId, string? Forwarding = null);
