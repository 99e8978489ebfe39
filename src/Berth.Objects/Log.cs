using Microsoft.Extensions.Logging;

namespace Berth.Objects;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Alarm scheduler started with {Count} pending alarm(s) from {IndexPath}")]
    public static partial void SchedulerStarted(ILogger logger, int count, string indexPath);

    [LoggerMessage(2, LogLevel.Warning, "Delivering the alarm of {GrainId} failed; it is retried in {Delay}")]
    public static partial void DeliveryFailed(ILogger logger, Exception exception, string grainId, TimeSpan delay);

    [LoggerMessage(3, LogLevel.Warning, "The alarm handler of {GrainId} failed on attempt {Attempt}; retry {Retry} of {MaxRetries} in {Delay}")]
    public static partial void AlarmRetrying(ILogger logger, Exception exception, string grainId, int attempt, int retry, int maxRetries, TimeSpan delay);

    [LoggerMessage(4, LogLevel.Error, "The alarm handler of {GrainId} failed {Attempts} time(s); the alarm set for {ScheduledTime:O} is dropped")]
    public static partial void AlarmDropped(ILogger logger, Exception exception, string grainId, int attempts, DateTimeOffset scheduledTime);

    [LoggerMessage(5, LogLevel.Warning, "A task passed to WaitUntil by {GrainId} failed")]
    public static partial void WaitUntilFailed(ILogger logger, Exception exception, string grainId);

    [LoggerMessage(6, LogLevel.Error, "BlockConcurrencyWhileAsync failed in {GrainId}; the object is deactivated")]
    public static partial void BlockFailed(ILogger logger, Exception exception, string grainId);
}
