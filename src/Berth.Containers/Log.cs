using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Containers;

internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Containers + 1, LogLevel.Information, "Container {ClassName} {ObjectId} started ({ContainerId})", EventName = "ContainerObjectStarted")]
    public static partial void Started(ILogger logger, string className, string objectId, string containerId);

    [LoggerMessage(BerthEventIds.Containers + 2, LogLevel.Information, "Container {ClassName} {ObjectId} stopping with {Signal} ({Reason})", EventName = "ContainerObjectStopping")]
    public static partial void Stopping(ILogger logger, string className, string objectId, string signal, StopReason reason);

    [LoggerMessage(BerthEventIds.Containers + 3, LogLevel.Information, "Container {ClassName} {ObjectId} stopped ({ContainerId}): exit code {ExitCode}, {Reason}", EventName = "ContainerObjectStopped")]
    public static partial void Stopped(ILogger logger, string className, string objectId, string containerId, int exitCode, StopReason reason);

    [LoggerMessage(BerthEventIds.Containers + 4, LogLevel.Warning, "Container {ClassName} {ObjectId} failed to start: {Message}", EventName = "ContainerObjectStartFailed")]
    public static partial void StartFailed(ILogger logger, string className, string objectId, string message);

    [LoggerMessage(BerthEventIds.Containers + 5, LogLevel.Information, "Container {ClassName} {ObjectId} idle for {SleepAfter}: activity expired", EventName = "ActivityExpired")]
    public static partial void ActivityExpired(ILogger logger, string className, string objectId, TimeSpan sleepAfter);

    [LoggerMessage(BerthEventIds.Containers + 6, LogLevel.Information, "Container {ClassName} {ObjectId} adopted running container {ContainerId}", EventName = "ContainerAdopted")]
    public static partial void Adopted(ILogger logger, string className, string objectId, string containerId);

    [LoggerMessage(BerthEventIds.Containers + 7, LogLevel.Warning, "Removed container {ContainerId} left by an earlier run of {ClassName} {ObjectId}", EventName = "OrphanRemoved")]
    public static partial void OrphanRemoved(ILogger logger, string containerId, string className, string objectId);

    [LoggerMessage(BerthEventIds.Containers + 8, LogLevel.Warning, "Watching container {ContainerId} failed, retrying: {Message}", EventName = "ContainerMonitorFailed")]
    public static partial void MonitorFailed(ILogger logger, string containerId, string message);

    [LoggerMessage(BerthEventIds.Containers + 9, LogLevel.Warning, "Removing container {ContainerId} failed: {Message}", EventName = "ContainerRemoveFailed")]
    public static partial void RemoveFailed(ILogger logger, string containerId, string message);

    [LoggerMessage(BerthEventIds.Containers + 10, LogLevel.Warning, "Last output of container {ClassName} {ObjectId}:\n{Output}", EventName = "ContainerOutput")]
    public static partial void ContainerOutput(ILogger logger, string className, string objectId, string output);

    [LoggerMessage(BerthEventIds.Containers + 11, LogLevel.Warning, "{ClassName} has no method '{Method}' for a scheduled call; the call is dropped", EventName = "ScheduledMethodMissing")]
    public static partial void ScheduledMethodMissing(ILogger logger, string className, string method);

    [LoggerMessage(BerthEventIds.Containers + 12, LogLevel.Warning, "Removed container {ContainerId} of unknown class '{ClassName}'", EventName = "UnknownClassRemoved")]
    public static partial void UnknownClassRemoved(ILogger logger, string containerId, string className);

    [LoggerMessage(BerthEventIds.Containers + 13, LogLevel.Information, "Reconciling {Count} containers left by an earlier run", EventName = "Reconciling")]
    public static partial void Reconciling(ILogger logger, int count);

    [LoggerMessage(BerthEventIds.Containers + 15, LogLevel.Warning, "Container {ClassName} {ObjectId} ({ContainerId}) refused a connection while the engine reported it running, and no exit came within {Settle}: treated as failed", EventName = "RefusedWhileRunning")]
    public static partial void RefusedWhileRunning(ILogger logger, string className, string objectId, string containerId, TimeSpan settle);

    [LoggerMessage(BerthEventIds.Containers + 14, LogLevel.Error, "Reconciling containers failed: {Message}", EventName = "ReconcileFailed")]
    public static partial void ReconcileFailed(ILogger logger, string message);
}
