using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

// Metering and usage reports: event IDs BerthEventIds.Metering + 1..99.
internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Metering + 1, LogLevel.Warning, "Could not write usage to {FilePath}; it stays pending for the next flush: {Message}", EventName = "UsageFlushFailed")]
    public static partial void UsageFlushFailed(ILogger logger, string filePath, string message);
}
