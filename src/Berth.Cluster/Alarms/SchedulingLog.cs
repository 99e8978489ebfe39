using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Cluster;

// Cluster alarms and crons: event IDs BerthEventIds.Cluster + 50 and up (2650–2699; 2600–2649 are membership and routing).
internal static partial class SchedulingLog
{
    private const int Base = BerthEventIds.Cluster + 50;

    [LoggerMessage(Base + 1, LogLevel.Information, "Cluster scheduling ready: node {NodeId} claims overdue alarms every {PollInterval} (grace {Grace}, node timeout {NodeTimeout})", EventName = "ClusterSchedulingStarted")]
    public static partial void Started(ILogger logger, string nodeId, TimeSpan pollInterval, TimeSpan grace, TimeSpan nodeTimeout);

    [LoggerMessage(Base + 2, LogLevel.Information, "Claimed {Count} overdue alarm(s) no node woke; waking their objects", EventName = "ClusterAlarmsClaimed")]
    public static partial void Claimed(ILogger logger, int count);

    [LoggerMessage(Base + 3, LogLevel.Warning, "Waking {GrainId} for its alarm due {Due:O} failed; the claim is released and the next poll tries again", EventName = "ClusterAlarmWakeFailed")]
    public static partial void WakeFailed(ILogger logger, Exception exception, string grainId, DateTimeOffset due);

    [LoggerMessage(Base + 4, LogLevel.Warning, "Polling berth_alarms failed; retrying in {PollInterval}", EventName = "ClusterAlarmPollFailed")]
    public static partial void PollFailed(ILogger logger, Exception exception, TimeSpan pollInterval);

    [LoggerMessage(Base + 5, LogLevel.Warning, "Writing {Count} alarm index change(s) to berth_alarms failed; retrying in {Delay}", EventName = "ClusterAlarmIndexWriteFailed")]
    public static partial void IndexWriteFailed(ILogger logger, Exception exception, int count, TimeSpan delay);

    [LoggerMessage(Base + 6, LogLevel.Debug, "Cron claim {TriggerKey} at {Occurrence:O}: {Outcome}", EventName = "ClusterCronClaim")]
    public static partial void CronClaim(ILogger logger, string triggerKey, DateTimeOffset occurrence, string outcome);

    [LoggerMessage(Base + 7, LogLevel.Debug, "Pruned {Count} cron claim(s) older than {Cutoff:O}", EventName = "ClusterCronClaimsPruned")]
    public static partial void CronPruned(ILogger logger, int count, DateTimeOffset cutoff);
}
