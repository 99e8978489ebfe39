using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

// Metering and usage reports: event IDs BerthEventIds.Metering + 1..99.
internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Metering + 1, LogLevel.Warning, "Could not write usage to {FilePath}; it stays pending for the next flush: {Message}", EventName = "UsageFlushFailed")]
    public static partial void UsageFlushFailed(ILogger logger, string filePath, string message);

    [LoggerMessage(BerthEventIds.Metering + 2, LogLevel.Warning, "Could not read the counters of container {ContainerId}; its CPU is counted at the next sample: {Message}", EventName = "ResourceReadFailed")]
    public static partial void ResourceReadFailed(ILogger logger, string containerId, string message);
}
