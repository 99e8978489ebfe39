using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

// The host's own messages: event IDs BerthEventIds.Hosting + n.
internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Hosting + 1, LogLevel.Warning, "containers[].class_name '{ClassName}' in the config file has no C# class registered with AddContainer<{ClassName}>()", EventName = "ConfigClassUnregistered")]
    public static partial void UnregisteredClass(ILogger logger, string className);

    [LoggerMessage(BerthEventIds.Hosting + 2, LogLevel.Information, "Container class {ClassName} runs image {Image}", EventName = "ClassImageReady")]
    public static partial void ClassImageReady(ILogger logger, string className, string image);

    [LoggerMessage(BerthEventIds.Hosting + 3, LogLevel.Error, "Container class {ClassName} has no usable image: {Message}", EventName = "ClassImageFailed")]
    public static partial void ClassImageFailed(ILogger logger, string className, string message);

    [LoggerMessage(BerthEventIds.Hosting + 4, LogLevel.Critical, "{Message}", EventName = "ClusterPortUnavailable")]
    public static partial void ClusterPortUnavailable(ILogger logger, string message);

    [LoggerMessage(BerthEventIds.Hosting + 5, LogLevel.Information, "berth dev: watching {ClassName}'s build context {Directory}", EventName = "DevWatching")]
    public static partial void DevWatching(ILogger logger, string className, string directory);

    [LoggerMessage(BerthEventIds.Hosting + 6, LogLevel.Information, "berth dev: {ClassName}'s build context changed (now {Version}), rebuilding", EventName = "DevContextChanged")]
    public static partial void DevContextChanged(ILogger logger, string className, string version);

    [LoggerMessage(BerthEventIds.Hosting + 7, LogLevel.Warning, "berth dev: {ClassName}'s image did not build ({Error}); its running containers keep the last image", EventName = "DevRebuildFailed")]
    public static partial void DevRebuildFailed(ILogger logger, string className, string error);

    [LoggerMessage(BerthEventIds.Hosting + 8, LogLevel.Information, "berth dev: stopping {Count} running {ClassName} container(s) so the next request starts {Image}", EventName = "DevReplacing")]
    public static partial void DevReplacing(ILogger logger, string className, int count, string image);

    [LoggerMessage(BerthEventIds.Hosting + 9, LogLevel.Information, "berth dev: stopping the {Count} container(s) this host started", EventName = "DevStoppingAll")]
    public static partial void DevStoppingAll(ILogger logger, int count);

    [LoggerMessage(BerthEventIds.Hosting + 10, LogLevel.Warning, "berth dev: could not list the containers: {Message}", EventName = "DevListFailed")]
    public static partial void DevListFailed(ILogger logger, string message);

    [LoggerMessage(BerthEventIds.Hosting + 11, LogLevel.Warning, "berth dev: stopping {ClassName} {ObjectId} failed: {Message}", EventName = "DevStopFailed")]
    public static partial void DevStopFailed(ILogger logger, string className, string objectId, string message);

    [LoggerMessage(BerthEventIds.Hosting + 12, LogLevel.Debug, "berth dev: could not hash {Directory} yet: {Message}", EventName = "DevHashFailed")]
    public static partial void DevHashFailed(ILogger logger, string directory, string message);

    [LoggerMessage(BerthEventIds.Hosting + 13, LogLevel.Information, "berth dev: {ClassName} rebuilt as version {Version} ({Image}); rolling it out", EventName = "DevRollingOut")]
    public static partial void DevRollingOut(ILogger logger, string className, int version, string image);

    // Cluster start-up (issue 16): 1460-1469.
    [LoggerMessage(BerthEventIds.Hosting + 60, LogLevel.Information, "Cluster {ClusterId}: node {NodeId} (location '{Location}') joins through PostgreSQL membership", EventName = "ClusterJoining")]
    public static partial void ClusterJoining(ILogger logger, string clusterId, string nodeId, string location);

    [LoggerMessage(BerthEventIds.Hosting + 61, LogLevel.Critical, "{Message}", EventName = "ClusterDatabaseUnavailable")]
    public static partial void ClusterDatabaseUnavailable(ILogger logger, string message);
}
