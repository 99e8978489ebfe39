using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Containers;

internal static partial class Log
{
    // The warm pool's lines: Containers + 80 to + 89.
    [LoggerMessage(BerthEventIds.Containers + 80, LogLevel.Debug, "{ClassName}: prewarmed container {ContainerId} ready and paused in {ElapsedMs:0} ms", EventName = "WarmPoolPrewarmed")]
    public static partial void Prewarmed(ILogger logger, string className, string containerId, double elapsedMs);

    [LoggerMessage(BerthEventIds.Containers + 81, LogLevel.Information, "{ClassName} {ObjectName} claimed prewarmed container {ContainerId}", EventName = "WarmPoolClaimed")]
    public static partial void Claimed(ILogger logger, string className, string objectName, string containerId);

    [LoggerMessage(BerthEventIds.Containers + 82, LogLevel.Warning, "{ClassName}: could not claim prewarmed container {ContainerId} ({Error}); it is removed and the next one tried", EventName = "WarmPoolClaimFailed")]
    public static partial void ClaimFailed(ILogger logger, string className, string containerId, string error);

    [LoggerMessage(BerthEventIds.Containers + 83, LogLevel.Warning, "{ClassName}: prewarming a container failed ({Error}); the pool tries again in {RetrySeconds:0.#} s", EventName = "WarmPoolRefillFailed")]
    public static partial void RefillFailed(ILogger logger, string className, string error, double retrySeconds);

    [LoggerMessage(BerthEventIds.Containers + 84, LogLevel.Warning, "{ClassName}: prewarmed container {ContainerId} exited with code {ExitCode} (out of memory: {OomKilled}); it is replaced", EventName = "WarmPoolContainerExited")]
    public static partial void PooledExited(ILogger logger, string className, string containerId, int exitCode, bool oomKilled);

    [LoggerMessage(BerthEventIds.Containers + 85, LogLevel.Information, "{ClassName}: warm pool drained ({Count} containers of {OldImage}); refilling with {NewImage}", EventName = "WarmPoolDrained")]
    public static partial void Drained(ILogger logger, string className, int count, string oldImage, string newImage);

    [LoggerMessage(BerthEventIds.Containers + 86, LogLevel.Information, "{ClassName}: prewarmed container {ContainerId} removed to make room for a start at max_instances", EventName = "WarmPoolEvicted")]
    public static partial void Evicted(ILogger logger, string className, string containerId);

    [LoggerMessage(BerthEventIds.Containers + 87, LogLevel.Debug, "{ClassName} {ObjectName}: no prewarmed container could be claimed ({Error}); starting cold", EventName = "WarmPoolClaimSkipped")]
    public static partial void ClaimSkipped(ILogger logger, string className, string objectName, string error);

    [LoggerMessage(BerthEventIds.Containers + 88, LogLevel.Information, "Prewarmed container {ContainerId} left by an earlier run was never claimed; removed", EventName = "WarmPoolLeftoverRemoved")]
    public static partial void PoolLeftoverRemoved(ILogger logger, string containerId);
}
