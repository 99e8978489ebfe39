namespace Berth.Hosting;

/// <summary>
/// Reads a running container's resource counters: the CPU time it used since it was created, and the memory it uses now.
/// The metering recorder samples it while a container runs and when it stops; the admin API's container list shows it.
/// </summary>
public interface IContainerResourceReader
{
    /// <summary>
    /// Reads the counters of the container <paramref name="containerId"/> (the engine's full ID), or <see langword="null"/>
    /// when the container is gone or its counters cannot be read. Never throws for a missing container.
    /// </summary>
    /// <param name="containerId">The engine's 64-hex-digit container ID.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<ContainerResourceSample?> ReadAsync(string containerId, CancellationToken cancellationToken = default);
}

/// <summary>One reading of a container's counters.</summary>
/// <param name="CpuNanoseconds">CPU time the container's processes used since it was created, in nanoseconds (all CPUs summed).</param>
/// <param name="MemoryBytes">Memory the container uses now, in bytes (the cgroup's usage); <see langword="null"/> when unknown.</param>
public sealed record ContainerResourceSample(long CpuNanoseconds, long? MemoryBytes);
