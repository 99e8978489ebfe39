using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Containers;

/// <summary>Log lines of rollouts (event IDs <c>Containers + 60</c>…<c>+ 69</c>).</summary>
internal static partial class RolloutLog
{
    [LoggerMessage(BerthEventIds.Containers + 60, LogLevel.Information, "Rollout of {ClassName} to version {ToVersion} ({Trigger}, {Percent} % of IDs) started: {Total} running containers on another version, steps {Steps}", EventName = "RolloutStarted")]
    public static partial void Started(ILogger logger, string className, int toVersion, string trigger, int percent, int total, string steps);

    [LoggerMessage(BerthEventIds.Containers + 61, LogLevel.Information, "Rollout of {ClassName} to version {ToVersion}: step {Step} ({StepPercent} %) done, {Replaced}/{Total} replaced", EventName = "RolloutStepDone")]
    public static partial void StepDone(ILogger logger, string className, int toVersion, int step, int stepPercent, int replaced, int total);

    [LoggerMessage(BerthEventIds.Containers + 62, LogLevel.Information, "Rollout of {ClassName} to version {ToVersion} completed: {Replaced}/{Total} replaced in {ElapsedSeconds:0.0} s", EventName = "RolloutCompleted")]
    public static partial void Completed(ILogger logger, string className, int toVersion, int replaced, int total, double elapsedSeconds);

    [LoggerMessage(BerthEventIds.Containers + 63, LogLevel.Error, "Rollout of {ClassName} to version {ToVersion} failed: {Message}", EventName = "RolloutFailed")]
    public static partial void Failed(ILogger logger, string className, int toVersion, string message);

    [LoggerMessage(BerthEventIds.Containers + 64, LogLevel.Information, "Rollout of {ClassName} to version {ToVersion} superseded by a rollout to version {NewVersion}", EventName = "RolloutSuperseded")]
    public static partial void Superseded(ILogger logger, string className, int toVersion, int newVersion);

    [LoggerMessage(BerthEventIds.Containers + 65, LogLevel.Information, "Rollout of {ClassName} to version {ToVersion} resumed at step {Step}, {Replaced}/{Total} replaced", EventName = "RolloutResumed")]
    public static partial void Resumed(ILogger logger, string className, int toVersion, int step, int replaced, int total);

    [LoggerMessage(BerthEventIds.Containers + 66, LogLevel.Warning, "Rollout of {ClassName}: replacing {ObjectId} (container {ContainerId}) failed: {Message}", EventName = "RolloutReplaceFailed")]
    public static partial void ReplaceFailed(ILogger logger, string className, string objectId, string containerId, string message);

    [LoggerMessage(BerthEventIds.Containers + 67, LogLevel.Information, "Rollout of {ClassName}: {Count} containers left at start-up run versions other than their IDs map to; rolling them to version {ToVersion}", EventName = "RolloutStartupDeploy")]
    public static partial void StartupDeploy(ILogger logger, string className, int count, int toVersion);

    [LoggerMessage(BerthEventIds.Containers + 68, LogLevel.Information, "{ClassName} {ObjectName} (version {FromVersion}) drained for its replacement in {ElapsedMs:0} ms, {InFlight} requests still in flight", EventName = "RolloutDrained")]
    public static partial void Drained(ILogger logger, string className, string objectName, string fromVersion, double elapsedMs, int inFlight);

    [LoggerMessage(BerthEventIds.Containers + 69, LogLevel.Debug, "Rollout of {ClassName}: {ObjectId} {Outcome} ({Replaced}/{Total})", EventName = "RolloutReplaced")]
    public static partial void Replaced(ILogger logger, string className, string objectId, string outcome, int replaced, int total);
}
