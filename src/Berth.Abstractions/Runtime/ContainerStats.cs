namespace Berth.Runtime;

/// <summary>A snapshot of a container's resource use.</summary>
/// <param name="CpuTotalNanoseconds">CPU time used since start.</param>
/// <param name="CpuPercent">CPU use since the previous sample, in percent of one CPU.</param>
/// <param name="MemoryUsageBytes">Memory in use.</param>
/// <param name="MemoryLimitBytes">Memory limit.</param>
/// <param name="NetworkReceivedBytes">Bytes received on all interfaces.</param>
/// <param name="NetworkSentBytes">Bytes sent on all interfaces.</param>
/// <param name="ReadAt">When the engine took the sample.</param>
public sealed record ContainerStats(
    ulong CpuTotalNanoseconds,
    double CpuPercent,
    ulong MemoryUsageBytes,
    ulong MemoryLimitBytes,
    ulong NetworkReceivedBytes,
    ulong NetworkSentBytes,
    DateTimeOffset ReadAt);
