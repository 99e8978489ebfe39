using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

// The admin API's messages: event IDs BerthEventIds.Admin + n.
internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Admin + 1, LogLevel.Information, "Admin API token generated and written to {Path}", EventName = "AdminTokenGenerated")]
    public static partial void Generated(ILogger logger, string path);

    [LoggerMessage(BerthEventIds.Admin + 2, LogLevel.Information, "Admin API uses the configured token (Berth:Admin:Token)", EventName = "AdminTokenConfigured")]
    public static partial void UsingConfigured(ILogger logger);

    [LoggerMessage(BerthEventIds.Admin + 3, LogLevel.Information, "Admin API: exec '{Command}' in {ClassName}/{ObjectId}", EventName = "AdminExec")]
    public static partial void Exec(ILogger logger, string command, string className, string objectId);

    [LoggerMessage(BerthEventIds.Admin + 4, LogLevel.Information, "Admin API: stopping {ClassName}/{ObjectId} (SIGTERM, SIGKILL after {GraceSeconds} s)", EventName = "AdminStop")]
    public static partial void Stop(ILogger logger, string className, string objectId, double graceSeconds);

    [LoggerMessage(BerthEventIds.Admin + 5, LogLevel.Information, "Admin API: stopping {ClassName}/{ObjectId} through its object", EventName = "AdminStopThroughObject")]
    public static partial void StopThroughObject(ILogger logger, string className, string objectId);

    [LoggerMessage(BerthEventIds.Admin + 6, LogLevel.Information, "Admin API: destroying {ClassName}/{ObjectId}", EventName = "AdminDestroy")]
    public static partial void Destroy(ILogger logger, string className, string objectId);
}
