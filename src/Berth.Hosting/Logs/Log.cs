using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting.Logs;

// Live logs' messages: event IDs BerthEventIds.Logs + n (+1 is the dropped-records marker, LiveLogQueue.DroppedEventId).
internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Logs + 2, LogLevel.Debug, "Live logs: following {ClassName} {ObjectId} container {ContainerId}", EventName = "LiveLogFollowContainer")]
    public static partial void FollowContainer(ILogger logger, string className, string objectId, string containerId);

    [LoggerMessage(BerthEventIds.Logs + 3, LogLevel.Warning, "Live logs: reading the output of container {ContainerId} failed: {Message}", EventName = "LiveLogContainerFailed")]
    public static partial void ContainerFailed(ILogger logger, string containerId, string message);

    [LoggerMessage(BerthEventIds.Logs + 4, LogLevel.Warning, "Live logs: listing the node's containers failed: {Message}", EventName = "LiveLogListFailed")]
    public static partial void ListFailed(ILogger logger, string message);

    [LoggerMessage(BerthEventIds.Logs + 5, LogLevel.Information, "Live logs: refused a follower, {Followers} follow already (Berth:Logs:MaxFollowers)", EventName = "LiveLogFollowerRefused")]
    public static partial void FollowerRefused(ILogger logger, int followers);
}
