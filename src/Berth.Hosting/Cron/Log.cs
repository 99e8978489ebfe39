using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

// Cron triggers' messages: event IDs BerthEventIds.Cron + n.
internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Cron + 1, LogLevel.Information, "Cron '{Cron}' scheduled; next occurrence {Next:u}", EventName = "CronScheduled")]
    public static partial void Scheduled(ILogger logger, string cron, DateTimeOffset? next);

    [LoggerMessage(BerthEventIds.Cron + 2, LogLevel.Information, "Cron '{Cron}' firing for {ScheduledTime:u}", EventName = "CronFiring")]
    public static partial void Firing(ILogger logger, string cron, DateTimeOffset scheduledTime);

    [LoggerMessage(BerthEventIds.Cron + 3, LogLevel.Debug, "Cron '{Cron}' run for {ScheduledTime:u} completed in {ElapsedMs:0} ms", EventName = "CronCompleted")]
    public static partial void Completed(ILogger logger, string cron, DateTimeOffset scheduledTime, double elapsedMs);

    [LoggerMessage(BerthEventIds.Cron + 4, LogLevel.Warning, "Cron '{Cron}' skipped the occurrence at {ScheduledTime:u}: the previous run is still going", EventName = "CronOverlapping")]
    public static partial void Overlapping(ILogger logger, string cron, DateTimeOffset scheduledTime);

    [LoggerMessage(BerthEventIds.Cron + 5, LogLevel.Warning, "Cron '{Cron}' woke late: the occurrences from {FirstMissed:u} up to {Fired:u} fire once, not in a burst", EventName = "CronMissed")]
    public static partial void Missed(ILogger logger, string cron, DateTimeOffset firstMissed, DateTimeOffset fired);

    [LoggerMessage(BerthEventIds.Cron + 6, LogLevel.Error, "Cron '{Cron}' run for {ScheduledTime:u} failed", EventName = "CronFailed")]
    public static partial void Failed(ILogger logger, Exception exception, string cron, DateTimeOffset scheduledTime);

    [LoggerMessage(BerthEventIds.Cron + 7, LogLevel.Error, "Scheduled handler {Handler} failed for cron '{Cron}' at {ScheduledTime:u}", EventName = "CronHandlerFailed")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string handler, string cron, DateTimeOffset scheduledTime);

    [LoggerMessage(BerthEventIds.Cron + 8, LogLevel.Information, "Cron '{Cron}' run for {ScheduledTime:u} cancelled: the host is stopping", EventName = "CronCancelled")]
    public static partial void Cancelled(ILogger logger, string cron, DateTimeOffset scheduledTime);

    [LoggerMessage(BerthEventIds.Cron + 9, LogLevel.Warning, "Cron '{Cron}' from triggers.crons fired but no IScheduledHandler is registered; add one with AddScheduledHandler<T>()", EventName = "CronNoHandler")]
    public static partial void NoHandler(ILogger logger, string cron);

    [LoggerMessage(BerthEventIds.Cron + 10, LogLevel.Warning, "Cron '{Cron}' has no further occurrence; its trigger stops", EventName = "CronNoMoreOccurrences")]
    public static partial void NoMoreOccurrences(ILogger logger, string cron);

    [LoggerMessage(BerthEventIds.Cron + 11, LogLevel.Debug, "Cron '{Cron}' occurrence {ScheduledTime:u} is fired by another node of the cluster", EventName = "CronClaimedElsewhere")]
    public static partial void ClaimedElsewhere(ILogger logger, string cron, DateTimeOffset scheduledTime);

    [LoggerMessage(BerthEventIds.Cron + 12, LogLevel.Error, "Cron '{Cron}' skipped the occurrence at {ScheduledTime:u}: it could not be claimed in the cluster database, and an unclaimed occurrence could fire on several nodes", EventName = "CronClaimFailed")]
    public static partial void ClaimFailed(ILogger logger, Exception exception, string cron, DateTimeOffset scheduledTime);
}
