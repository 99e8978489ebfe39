using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

// The web dashboard's messages: event IDs BerthEventIds.Dashboard + n.
internal static partial class DashboardLog
{
    [LoggerMessage(BerthEventIds.Dashboard + 1, LogLevel.Information, "Web dashboard at {Path} ({Files} files); it answers on loopback only and asks for the admin token", EventName = "DashboardMapped")]
    public static partial void Mapped(ILogger logger, string path, int files);

    [LoggerMessage(BerthEventIds.Dashboard + 2, LogLevel.Warning, "Web dashboard: this build of Berth.Hosting carries no dashboard files (built without npm or with BerthSkipDashboard=true); /_berth/dashboard/ answers 503", EventName = "DashboardNotBuilt")]
    public static partial void NotBuilt(ILogger logger);
}
