using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Cluster;

internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Cluster + 3, LogLevel.Warning, "Location hint '{Location}' names no live node; the object {GrainId} is placed as without a hint", EventName = "UnknownLocationHint")]
    public static partial void UnknownLocation(ILogger logger, string location, string grainId);
}
