using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Objects;

internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Objects + 1, LogLevel.Information, "Alarm scheduler started with {Count} pending alarm(s) from {IndexPath}", EventName = "AlarmSchedulerStarted")]
    public static partial void SchedulerStarted(ILogger logger, int count, string indexPath);

    [LoggerMessage(BerthEventIds.Objects + 2, LogLevel.Warning, "Delivering the alarm of {GrainId} failed; it is retried in {Delay}", EventName = "AlarmDeliveryFailed")]
    public static partial void DeliveryFailed(ILogger logger, Exception exception, string grainId, TimeSpan delay);

    [LoggerMessage(BerthEventIds.Objects + 3, LogLevel.Warning, "The alarm handler of {GrainId} failed on attempt {Attempt}; retry {Retry} of {MaxRetries} in {Delay}", EventName = "AlarmRetrying")]
    public static partial void AlarmRetrying(ILogger logger, Exception exception, string grainId, int attempt, int retry, int maxRetries, TimeSpan delay);

    [LoggerMessage(BerthEventIds.Objects + 4, LogLevel.Error, "The alarm handler of {GrainId} failed {Attempts} time(s); the alarm set for {ScheduledTime:O} is dropped", EventName = "AlarmDropped")]
    public static partial void AlarmDropped(ILogger logger, Exception exception, string grainId, int attempts, DateTimeOffset scheduledTime);

    [LoggerMessage(BerthEventIds.Objects + 5, LogLevel.Warning, "A task passed to WaitUntil by {GrainId} failed", EventName = "WaitUntilFailed")]
    public static partial void WaitUntilFailed(ILogger logger, Exception exception, string grainId);

    [LoggerMessage(BerthEventIds.Objects + 6, LogLevel.Error, "BlockConcurrencyWhileAsync failed in {GrainId}; the object is deactivated", EventName = "BlockConcurrencyFailed")]
    public static partial void BlockFailed(ILogger logger, Exception exception, string grainId);
}
