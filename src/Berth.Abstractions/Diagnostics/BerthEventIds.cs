namespace Berth.Diagnostics;

/// <summary>
/// The event ID ranges of Berth's log messages: one block of <see cref="RangeSize"/> IDs per
/// component, so that an event ID names one message across the whole platform. Every
/// <c>[LoggerMessage]</c> in a Berth assembly uses <c>BerthEventIds.&lt;Component&gt; + n</c>,
/// with <c>n</c> from 1 to <see cref="RangeSize"/> − 1, and an explicit <c>EventName</c>.
/// </summary>
/// <remarks>
/// IDs are part of the operational contract (alerts and log queries filter on them): a message
/// keeps its ID for life, a removed message's ID is not reused, and a new message takes the next
/// free number in its component's range.
/// </remarks>
public static class BerthEventIds
{
    /// <summary>The number of IDs in each component's range (100).</summary>
    public const int RangeSize = 100;

    /// <summary>Durable objects, alarms and their storage (<c>Berth.Objects</c>): 1000–1099.</summary>
    public const int Objects = 1000;

    /// <summary>Container objects and their lifecycle (<c>Berth.Containers</c>): 1100–1199.</summary>
    public const int Containers = 1100;

    /// <summary>The Docker engine runtime (<c>Berth.Docker</c>): 1200–1299.</summary>
    public const int Docker = 1200;

    /// <summary>The HTTP gateway and forwarder (<c>Berth.Gateway</c>): 1300–1399.</summary>
    public const int Gateway = 1300;

    /// <summary>The host and its startup (<c>Berth.Hosting</c>, folder <c>Host</c>): 1400–1499.</summary>
    public const int Hosting = 1400;

    /// <summary>The admin API (<c>Berth.Hosting</c>, folder <c>Admin</c>): 1500–1599.</summary>
    public const int Admin = 1500;

    /// <summary>Cron triggers (<c>Berth.Hosting</c>, folder <c>Cron</c>): 1600–1699.</summary>
    public const int Cron = 1600;

    /// <summary>Building and caching application images (<c>Berth.Hosting</c>, folder <c>Images</c>): 1700–1799.</summary>
    public const int Images = 1700;

    /// <summary>Reading and validating configuration: 1800–1899.</summary>
    public const int Config = 1800;

    /// <summary>The <c>berth</c> command-line tool (<c>Berth.Cli</c>): 1900–1999.</summary>
    public const int Cli = 1900;

    /// <summary>The egress proxy and firewall (<c>Berth.Egress</c>): 2100–2199.</summary>
    public const int Egress = 2100;

    /// <summary>Metering and usage reports (<c>Berth.Hosting</c>, folder <c>Metering</c>): 2200–2299.</summary>
    public const int Metering = 2200;

    /// <summary>OpenTelemetry metrics and traces (<c>Berth.Hosting</c>, folder <c>Telemetry</c>): 2300–2399.</summary>
    public const int Telemetry = 2300;

    /// <summary>Live logs: the platform's log buffer and followers (<c>Berth.Hosting</c>, folder <c>Logs</c>): 2400–2499.</summary>
    public const int Logs = 2400;

    /// <summary>The web dashboard (<c>Berth.Hosting</c>, folder <c>Dashboard</c>): 2500–2599.</summary>
    public const int Dashboard = 2500;

    /// <summary>Cluster membership, cross-node routing and locations (<c>Berth.Cluster</c>): 2600–2699.</summary>
    public const int Cluster = 2600;

    /// <summary>Replication of object storage to the cluster's durable store and point-in-time recovery: 2700–2799.</summary>
    public const int Replication = 2700;
}
