using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Docker;

internal static partial class Log
{
    // A container's own events (created, stopping, killed, exited) are Debug here: its object logs each once at
    // Information, with the class and object name (Berth.Containers' Log); these would repeat them by engine ID only.
    [LoggerMessage(BerthEventIds.Docker + 1, LogLevel.Debug, "Created container {ContainerId} ({Name}) from {Image} as {InstanceType}", EventName = "ContainerCreated")]
    public static partial void ContainerCreated(this ILogger logger, string containerId, string name, string image, InstanceType instanceType);

    [LoggerMessage(BerthEventIds.Docker + 2, LogLevel.Debug, "Started container {ContainerId}", EventName = "ContainerStarted")]
    public static partial void ContainerStarted(this ILogger logger, string containerId);

    [LoggerMessage(BerthEventIds.Docker + 3, LogLevel.Debug, "Stopping container {ContainerId} with {Signal}, SIGKILL after {GraceMs} ms", EventName = "StoppingContainer")]
    public static partial void StoppingContainer(this ILogger logger, string containerId, string signal, double graceMs);

    [LoggerMessage(BerthEventIds.Docker + 4, LogLevel.Debug, "Container {ContainerId} did not exit within {GraceMs} ms of the stop signal; sending SIGKILL", EventName = "KillingAfterGrace")]
    public static partial void KillingAfterGrace(this ILogger logger, string containerId, double graceMs);

    [LoggerMessage(BerthEventIds.Docker + 5, LogLevel.Debug, "Container {ContainerId} exited with code {ExitCode} (OOM killed: {OomKilled})", EventName = "ContainerExited")]
    public static partial void ContainerExited(this ILogger logger, string containerId, int exitCode, bool oomKilled);

    [LoggerMessage(BerthEventIds.Docker + 6, LogLevel.Debug, "Removed container {ContainerId}", EventName = "ContainerRemoved")]
    public static partial void ContainerRemoved(this ILogger logger, string containerId);

    [LoggerMessage(BerthEventIds.Docker + 7, LogLevel.Warning, "Disk limits are NOT enforced on the Docker engine at {Endpoint}: {Reason}. Containers get the instance type's CPU, memory and process limits, but their writable layer is only bounded by the host's free disk.", EventName = "DiskLimitsNotEnforced")]
    public static partial void DiskLimitsNotEnforced(this ILogger logger, string endpoint, string reason);

    [LoggerMessage(BerthEventIds.Docker + 8, LogLevel.Information, "Created network {Name} ({NetworkId})", EventName = "NetworkCreated")]
    public static partial void NetworkCreated(this ILogger logger, string name, string networkId);

    [LoggerMessage(BerthEventIds.Docker + 9, LogLevel.Debug, "build: {Line}", EventName = "DockerBuildOutput")]
    public static partial void BuildOutput(this ILogger logger, string line);

    [LoggerMessage(BerthEventIds.Docker + 10, LogLevel.Information, "Built image {Tag} ({ImageId})", EventName = "ImageBuilt")]
    public static partial void ImageBuilt(this ILogger logger, string tag, string imageId);

    [LoggerMessage(BerthEventIds.Docker + 11, LogLevel.Warning, "Building image {Tag} failed: {Error}", EventName = "ImageBuildFailed")]
    public static partial void ImageBuildFailed(this ILogger logger, string tag, string error);

    [LoggerMessage(BerthEventIds.Docker + 12, LogLevel.Information, "Imported image {Reference} ({ImageId})", EventName = "ImageImported")]
    public static partial void ImageImported(this ILogger logger, string reference, string imageId);

    [LoggerMessage(BerthEventIds.Docker + 13, LogLevel.Debug, "Removed image {Reference}", EventName = "ImageRemoved")]
    public static partial void ImageRemoved(this ILogger logger, string reference);

    [LoggerMessage(BerthEventIds.Docker + 14, LogLevel.Debug, "Container {Name} asks for {InstanceType} but the host has {HostCpus} CPUs; its CPU limit is the whole host", EventName = "CpuLimitCapped")]
    public static partial void CpuLimitCapped(this ILogger logger, string name, InstanceType instanceType, double hostCpus);

    [LoggerMessage(BerthEventIds.Docker + 15, LogLevel.Warning, "Network {Name} ({NetworkId}) was created without Berth's isolation options; removing it to create it again", EventName = "ReplacingUnisolatedNetwork")]
    public static partial void ReplacingUnisolatedNetwork(this ILogger logger, string name, string networkId);

    [LoggerMessage(BerthEventIds.Docker + 16, LogLevel.Information, "Host firewall installed: INPUT -i {Bridges} jumps to {Chain} (replies and allowed host services pass, the rest is dropped)", EventName = "HostFirewallInstalled")]
    public static partial void HostFirewallInstalled(this ILogger logger, string chain, string bridges);

    [LoggerMessage(BerthEventIds.Docker + 17, LogLevel.Error, "Host firewall NOT installed; containers could reach the host's services: {Error}", EventName = "HostFirewallFailed")]
    public static partial void HostFirewallFailed(this ILogger logger, string error);

    [LoggerMessage(BerthEventIds.Docker + 40, LogLevel.Debug, "Paused container {ContainerId}", EventName = "ContainerPaused")]
    public static partial void ContainerPaused(this ILogger logger, string containerId);

    [LoggerMessage(BerthEventIds.Docker + 41, LogLevel.Debug, "Unpaused container {ContainerId}", EventName = "ContainerUnpaused")]
    public static partial void ContainerUnpaused(this ILogger logger, string containerId);
}
