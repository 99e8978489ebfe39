using Microsoft.Extensions.Logging;

namespace Berth.Containers;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Container {ClassName} {ObjectId} started ({ContainerId})")]
    public static partial void Started(ILogger logger, string className, string objectId, string containerId);

    [LoggerMessage(2, LogLevel.Information, "Container {ClassName} {ObjectId} stopping with {Signal} ({Reason})")]
    public static partial void Stopping(ILogger logger, string className, string objectId, string signal, StopReason reason);

    [LoggerMessage(3, LogLevel.Information, "Container {ClassName} {ObjectId} stopped ({ContainerId}): exit code {ExitCode}, {Reason}")]
    public static partial void Stopped(ILogger logger, string className, string objectId, string containerId, int exitCode, StopReason reason);

    [LoggerMessage(4, LogLevel.Warning, "Container {ClassName} {ObjectId} failed to start: {Message}")]
    public static partial void StartFailed(ILogger logger, string className, string objectId, string message);

    [LoggerMessage(5, LogLevel.Information, "Container {ClassName} {ObjectId} idle for {SleepAfter}: activity expired")]
    public static partial void ActivityExpired(ILogger logger, string className, string objectId, TimeSpan sleepAfter);

    [LoggerMessage(6, LogLevel.Information, "Container {ClassName} {ObjectId} adopted running container {ContainerId}")]
    public static partial void Adopted(ILogger logger, string className, string objectId, string containerId);

    [LoggerMessage(7, LogLevel.Warning, "Removed container {ContainerId} left by an earlier run of {ClassName} {ObjectId}")]
    public static partial void OrphanRemoved(ILogger logger, string containerId, string className, string objectId);

    [LoggerMessage(8, LogLevel.Warning, "Watching container {ContainerId} failed, retrying: {Message}")]
    public static partial void MonitorFailed(ILogger logger, string containerId, string message);

    [LoggerMessage(9, LogLevel.Warning, "Removing container {ContainerId} failed: {Message}")]
    public static partial void RemoveFailed(ILogger logger, string containerId, string message);

    [LoggerMessage(10, LogLevel.Warning, "Last output of container {ClassName} {ObjectId}:\n{Output}")]
    public static partial void ContainerOutput(ILogger logger, string className, string objectId, string output);

    [LoggerMessage(11, LogLevel.Warning, "{ClassName} has no method '{Method}' for a scheduled call; the call is dropped")]
    public static partial void ScheduledMethodMissing(ILogger logger, string className, string method);

    [LoggerMessage(12, LogLevel.Warning, "Removed container {ContainerId} of unknown class '{ClassName}'")]
    public static partial void UnknownClassRemoved(ILogger logger, string containerId, string className);

    [LoggerMessage(13, LogLevel.Information, "Reconciling {Count} containers left by an earlier run")]
    public static partial void Reconciling(ILogger logger, int count);

    [LoggerMessage(15, LogLevel.Warning, "Container {ClassName} {ObjectId} ({ContainerId}) refused a connection while the engine reported it running, and no exit came within {Settle}: treated as failed")]
    public static partial void RefusedWhileRunning(ILogger logger, string className, string objectId, string containerId, TimeSpan settle);

    [LoggerMessage(14, LogLevel.Error, "Reconciling containers failed: {Message}")]
    public static partial void ReconcileFailed(ILogger logger, string message);
}
