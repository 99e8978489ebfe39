using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Containers;

internal static partial class Log
{
    // One line per container event at Information (starting, ready, sleeping, stopped), Warning for crashes, OOM and
    // SIGKILL after the grace; each names the class and the object's name (its id when no name is known). The engine
    // driver's own lines about the same container are Debug.
    [LoggerMessage(BerthEventIds.Containers + 1, LogLevel.Debug, "{ClassName} {ObjectName}: container {ContainerId} started", EventName = "ContainerObjectStarted")]
    public static partial void Started(ILogger logger, string className, string objectName, string containerId);

    [LoggerMessage(BerthEventIds.Containers + 2, LogLevel.Debug, "{ClassName} {ObjectName} stopping with {Signal} ({Reason})", EventName = "ContainerObjectStopping")]
    public static partial void Stopping(ILogger logger, string className, string objectName, string signal, StopReason reason);

    [LoggerMessage(BerthEventIds.Containers + 3, LogLevel.Information, "{ClassName} {ObjectName} stopped ({Reason}): exit code {ExitCode}, container {ContainerId}", EventName = "ContainerObjectStopped")]
    public static partial void Stopped(ILogger logger, string className, string objectName, StopReason reason, int exitCode, string containerId);

    [LoggerMessage(BerthEventIds.Containers + 4, LogLevel.Warning, "{ClassName} {ObjectName} failed to start: {Message}", EventName = "ContainerObjectStartFailed")]
    public static partial void StartFailed(ILogger logger, string className, string objectName, string message);

    [LoggerMessage(BerthEventIds.Containers + 24, LogLevel.Warning, "{ClassName} {ObjectName}: {Message}", EventName = "ContainerCrashLoop")]
    public static partial void CrashLoop(ILogger logger, string className, string objectName, string message);

    [LoggerMessage(BerthEventIds.Containers + 5, LogLevel.Information, "{ClassName} {ObjectName} sleeping after {SleepAfter} idle", EventName = "ActivityExpired")]
    public static partial void ActivityExpired(ILogger logger, string className, string objectName, TimeSpan sleepAfter);

    [LoggerMessage(BerthEventIds.Containers + 16, LogLevel.Information, "{ClassName} {ObjectName} starting ({Image})", EventName = "ContainerObjectStarting")]
    public static partial void Starting(ILogger logger, string className, string objectName, string image);

    [LoggerMessage(BerthEventIds.Containers + 17, LogLevel.Information, "{ClassName} {ObjectName} ready in {ElapsedMs:0} ms", EventName = "ContainerObjectReady")]
    public static partial void Ready(ILogger logger, string className, string objectName, double elapsedMs);

    [LoggerMessage(BerthEventIds.Containers + 18, LogLevel.Warning, "{ClassName} {ObjectName} crashed ({Reason}): exit code {ExitCode}, container {ContainerId}", EventName = "ContainerObjectCrashed")]
    public static partial void Crashed(ILogger logger, string className, string objectName, StopReason reason, int exitCode, string containerId);

    [LoggerMessage(BerthEventIds.Containers + 19, LogLevel.Warning,
        "{ClassName} {ObjectName} ran out of memory and was killed: exit code {ExitCode}, limit {MemoryMib} MiB ({InstanceType}); choose a larger instance_type if this recurs",
        EventName = "ContainerObjectOutOfMemory")]
    public static partial void OutOfMemory(ILogger logger, string className, string objectName, int exitCode, long memoryMib, InstanceType instanceType);

    [LoggerMessage(BerthEventIds.Containers + 20, LogLevel.Warning,
        "{ClassName} {ObjectName} stopped ({Reason}) only by SIGKILL: it did not exit within {Grace} of {Signal} (exit code {ExitCode}). This usually means " +
        "its PID 1 ignores {Signal}: a process running as PID 1 is not ended by a signal it has no handler for. Set 'init: true' for the class " +
        "(Init = true in code) to run an init process that forwards the signal, or handle {Signal} in the entrypoint",
        EventName = "ContainerObjectKilledAfterGrace")]
    public static partial void KilledAfterGrace(ILogger logger, string className, string objectName, StopReason reason, TimeSpan grace, string signal, int exitCode);

    [LoggerMessage(BerthEventIds.Containers + 21, LogLevel.Debug, "{ClassName} {ObjectName}: container {ContainerId} removed after a failed start ({Reason}, exit code {ExitCode})", EventName = "ContainerObjectFailedStartRemoved")]
    public static partial void FailedStartRemoved(ILogger logger, string className, string objectName, string containerId, StopReason reason, int exitCode);

    [LoggerMessage(BerthEventIds.Containers + 6, LogLevel.Information, "{ClassName} {ObjectName} adopted running container {ContainerId}", EventName = "ContainerAdopted")]
    public static partial void Adopted(ILogger logger, string className, string objectName, string containerId);

    [LoggerMessage(BerthEventIds.Containers + 7, LogLevel.Warning, "Removed container {ContainerId} left by an earlier run of {ClassName} {ObjectName}", EventName = "OrphanRemoved")]
    public static partial void OrphanRemoved(ILogger logger, string containerId, string className, string objectName);

    [LoggerMessage(BerthEventIds.Containers + 8, LogLevel.Warning, "Watching container {ContainerId} failed, retrying: {Message}", EventName = "ContainerMonitorFailed")]
    public static partial void MonitorFailed(ILogger logger, string containerId, string message);

    [LoggerMessage(BerthEventIds.Containers + 9, LogLevel.Warning, "Removing container {ContainerId} failed: {Message}", EventName = "ContainerRemoveFailed")]
    public static partial void RemoveFailed(ILogger logger, string containerId, string message);

    [LoggerMessage(BerthEventIds.Containers + 10, LogLevel.Warning, "{ClassName} {ObjectName} last output:\n{Output}", EventName = "ContainerOutput")]
    public static partial void ContainerOutput(ILogger logger, string className, string objectName, string output);

    [LoggerMessage(BerthEventIds.Containers + 11, LogLevel.Warning, "{ClassName} has no method '{Method}' for a scheduled call; the call is dropped", EventName = "ScheduledMethodMissing")]
    public static partial void ScheduledMethodMissing(ILogger logger, string className, string method);

    [LoggerMessage(BerthEventIds.Containers + 22, LogLevel.Warning, "Handing container {ContainerId} ({ClassName} {ObjectId}) to its object failed; it is left as it is", EventName = "ContainerHandoverFailed")]
    public static partial void HandoverFailed(ILogger logger, Exception exception, string containerId, string className, string objectId);

    [LoggerMessage(BerthEventIds.Containers + 23, LogLevel.Information,
        "{ClassName} {ObjectName} moved from node {PreviousNode}: its container {ContainerId} there is not adopted (that node's reconciler, or a survivor on the same engine, removes it); the next request starts one here",
        EventName = "ContainerLeftOnPreviousNode")]
    public static partial void LeftOnPreviousNode(ILogger logger, string className, string objectName, string previousNode, string containerId);

    [LoggerMessage(BerthEventIds.Containers + 12, LogLevel.Warning, "Removed container {ContainerId} of unknown class '{ClassName}'", EventName = "UnknownClassRemoved")]
    public static partial void UnknownClassRemoved(ILogger logger, string containerId, string className);

    [LoggerMessage(BerthEventIds.Containers + 13, LogLevel.Information, "Reconciling {Count} containers left by an earlier run", EventName = "Reconciling")]
    public static partial void Reconciling(ILogger logger, int count);

    [LoggerMessage(BerthEventIds.Containers + 15, LogLevel.Warning, "{ClassName} {ObjectName} (container {ContainerId}) refused a connection while the engine reported it running, and no exit came within {Settle}: treated as failed", EventName = "RefusedWhileRunning")]
    public static partial void RefusedWhileRunning(ILogger logger, string className, string objectName, string containerId, TimeSpan settle);

    [LoggerMessage(BerthEventIds.Containers + 14, LogLevel.Error, "Reconciling containers failed: {Message}", EventName = "ReconcileFailed")]
    public static partial void ReconcileFailed(ILogger logger, string message);

    // 95–96: the node's disk watch (ContainerDiskWatch).
    [LoggerMessage(BerthEventIds.Containers + 95, LogLevel.Warning,
        "{ClassName} {ObjectName}: container {ContainerId} wrote {WrittenMb} MB to its writable layer, over its {LimitMb} MB disk; killing it (SIGKILL)",
        EventName = "ContainerDiskLimitExceeded")]
    public static partial void DiskLimitExceeded(ILogger logger, string className, string objectName, string containerId, long writtenMb, long limitMb);

    [LoggerMessage(BerthEventIds.Containers + 96, LogLevel.Warning, "Disk watch: measuring or killing container {ContainerId} failed: {Message}", EventName = "ContainerDiskMeasureFailed")]
    public static partial void DiskMeasureFailed(ILogger logger, string containerId, string message);

    [LoggerMessage(BerthEventIds.Containers + 97, LogLevel.Warning, "Container {ClassName} {ObjectName}: state observer {Observer} failed", EventName = "ContainerStateObserverFailed")]
    public static partial void ObserverFailed(ILogger logger, string className, string objectName, string observer, Exception exception);

    [LoggerMessage(BerthEventIds.Containers + 98, LogLevel.Debug, "Reporting {InFlight} requests in flight to {ClassName} {ObjectId} on its node failed: {Message}", EventName = "RemoteActivityReportFailed")]
    public static partial void RemoteActivityReportFailed(ILogger logger, string className, string objectId, int inFlight, string message);
}
