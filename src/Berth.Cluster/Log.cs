using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Cluster;

// Membership and routing: BerthEventIds.Cluster + 0–49 (2600–2649); + 10–19 are a dead node's containers.
internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Cluster + 3, LogLevel.Warning, "Location hint '{Location}' names no live node; the object {GrainId} is placed as without a hint", EventName = "UnknownLocationHint")]
    public static partial void UnknownLocation(ILogger logger, string location, string grainId);

    [LoggerMessage(BerthEventIds.Cluster + 10, LogLevel.Information, "Dead nodes' containers: node {NodeId} runs its containers on engine {EngineId} and removes those of dead nodes on the same engine", EventName = "DeadNodeCleanupStarted")]
    public static partial void DeadNodeCleanupStarted(ILogger logger, string nodeId, string engineId);

    [LoggerMessage(BerthEventIds.Cluster + 11, LogLevel.Information, "Dead nodes' containers are not removed by this node: {Reason}", EventName = "DeadNodeCleanupOff")]
    public static partial void DeadNodeCleanupOff(ILogger logger, string reason);

    [LoggerMessage(BerthEventIds.Cluster + 12, LogLevel.Information, "Node {DeadNodeId} (silo {Silo}) is dead and shared this node's engine: handing its {Count} container(s) to their objects", EventName = "DeadNodeHandingOver")]
    public static partial void DeadNodeHandingOver(ILogger logger, string deadNodeId, string silo, int count);

    [LoggerMessage(BerthEventIds.Cluster + 13, LogLevel.Information, "Dead node {DeadNodeId} (silo {Silo}): {Removed} container(s) removed, {Kept} kept by their objects", EventName = "DeadNodeContainersRemoved")]
    public static partial void DeadNodeContainersRemoved(ILogger logger, string deadNodeId, string silo, int removed, int kept);

    [LoggerMessage(BerthEventIds.Cluster + 14, LogLevel.Information, "Dead node {DeadNodeId} (silo {Silo}) ran on engine {DeadEngineId}, not this node's: its containers stay until it comes back", EventName = "DeadNodeOnOtherEngine")]
    public static partial void DeadNodeOnOtherEngine(ILogger logger, string deadNodeId, string silo, string deadEngineId);

    [LoggerMessage(BerthEventIds.Cluster + 15, LogLevel.Debug, "Dead node {DeadNodeId} (silo {Silo}) skipped: {Reason}", EventName = "DeadNodeSkipped")]
    public static partial void DeadNodeSkipped(ILogger logger, string deadNodeId, string silo, string reason);

    [LoggerMessage(BerthEventIds.Cluster + 16, LogLevel.Warning, "Handling the containers of dead node {DeadNodeId} (silo {Silo}) failed; retrying in {RetryInterval}", EventName = "DeadNodeCleanupFailed")]
    public static partial void DeadNodeCleanupFailed(ILogger logger, Exception exception, string deadNodeId, string silo, TimeSpan retryInterval);

    [LoggerMessage(BerthEventIds.Cluster + 17, LogLevel.Warning, "Dead node {DeadNodeId}: {Failed} container(s) could not be handed to their objects; retrying in {RetryInterval}", EventName = "DeadNodeContainersLeft")]
    public static partial void DeadNodeContainersLeft(ILogger logger, string deadNodeId, int failed, TimeSpan retryInterval);

    [LoggerMessage(BerthEventIds.Cluster + 18, LogLevel.Warning, "This node's engine ID cannot be recorded yet, so dead nodes' containers are not removed; retrying in {RetryInterval}: {Message}", EventName = "EngineIdUnavailable")]
    public static partial void EngineIdUnavailable(ILogger logger, TimeSpan retryInterval, string message);
}
