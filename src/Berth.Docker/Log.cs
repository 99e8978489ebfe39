using Microsoft.Extensions.Logging;

namespace Berth.Docker;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Created container {ContainerId} ({Name}) from {Image} as {InstanceType}")]
    public static partial void ContainerCreated(this ILogger logger, string containerId, string name, string image, InstanceType instanceType);

    [LoggerMessage(2, LogLevel.Debug, "Started container {ContainerId}")]
    public static partial void ContainerStarted(this ILogger logger, string containerId);

    [LoggerMessage(3, LogLevel.Information, "Stopping container {ContainerId} with {Signal}, SIGKILL after {GraceMs} ms")]
    public static partial void StoppingContainer(this ILogger logger, string containerId, string signal, double graceMs);

    [LoggerMessage(4, LogLevel.Warning, "Container {ContainerId} did not exit within {GraceMs} ms of the stop signal; sending SIGKILL")]
    public static partial void KillingAfterGrace(this ILogger logger, string containerId, double graceMs);

    [LoggerMessage(5, LogLevel.Information, "Container {ContainerId} exited with code {ExitCode} (OOM killed: {OomKilled})")]
    public static partial void ContainerExited(this ILogger logger, string containerId, int exitCode, bool oomKilled);

    [LoggerMessage(6, LogLevel.Debug, "Removed container {ContainerId}")]
    public static partial void ContainerRemoved(this ILogger logger, string containerId);

    [LoggerMessage(7, LogLevel.Warning, "Disk limits are NOT enforced on the Docker engine at {Endpoint}: {Reason}. Containers get the instance type's CPU, memory and process limits, but their writable layer is only bounded by the host's free disk.")]
    public static partial void DiskLimitsNotEnforced(this ILogger logger, string endpoint, string reason);

    [LoggerMessage(8, LogLevel.Information, "Created network {Name} ({NetworkId})")]
    public static partial void NetworkCreated(this ILogger logger, string name, string networkId);

    [LoggerMessage(9, LogLevel.Debug, "build: {Line}")]
    public static partial void BuildOutput(this ILogger logger, string line);

    [LoggerMessage(10, LogLevel.Information, "Built image {Tag} ({ImageId})")]
    public static partial void ImageBuilt(this ILogger logger, string tag, string imageId);

    [LoggerMessage(11, LogLevel.Warning, "Building image {Tag} failed: {Error}")]
    public static partial void ImageBuildFailed(this ILogger logger, string tag, string error);

    [LoggerMessage(12, LogLevel.Information, "Imported image {Reference} ({ImageId})")]
    public static partial void ImageImported(this ILogger logger, string reference, string imageId);

    [LoggerMessage(13, LogLevel.Debug, "Removed image {Reference}")]
    public static partial void ImageRemoved(this ILogger logger, string reference);

    [LoggerMessage(14, LogLevel.Debug, "Container {Name} asks for {InstanceType} but the host has {HostCpus} CPUs; its CPU limit is the whole host")]
    public static partial void CpuLimitCapped(this ILogger logger, string name, InstanceType instanceType, double hostCpus);
}
