namespace Berth.Hosting;

/// <summary>The usage of one container object in one hour, as the store keeps it (docs/metering.md).</summary>
/// <param name="ClassName">The container class.</param>
/// <param name="ObjectId">The object's ID (64 hex digits).</param>
/// <param name="ObjectName">The object's name when it was reached by name; <see langword="null"/> otherwise.</param>
/// <param name="Hour">The start of the UTC hour the usage happened in.</param>
/// <param name="Amounts">What was used.</param>
public sealed record UsageRow(string ClassName, string ObjectId, string? ObjectName, DateTimeOffset Hour, UsageAmounts Amounts);

/// <summary>Usage amounts; they add up (<see cref="Add"/>).</summary>
/// <param name="RunningMs">Running time in milliseconds, each running interval rounded up to the next 10 ms.</param>
/// <param name="Starts">How many times a container was started.</param>
/// <param name="MemoryGibSeconds">Provisioned memory over the running time, in GiB-seconds (GiB = 2³⁰ bytes).</param>
/// <param name="DiskGbSeconds">Provisioned disk over the running time, in GB-seconds (GB = 10⁹ bytes).</param>
/// <param name="CpuNanoseconds">Active CPU time, in nanoseconds (vCPU-nanoseconds), from the container's cgroup counters.</param>
/// <param name="EgressBytes">Bytes sent out through the egress proxy.</param>
public sealed record UsageAmounts(long RunningMs, long Starts, double MemoryGibSeconds, double DiskGbSeconds, long CpuNanoseconds, long EgressBytes)
{
    /// <summary>Nothing used.</summary>
    public static UsageAmounts Zero { get; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>Active CPU in vCPU-seconds.</summary>
    public double CpuVcpuSeconds => CpuNanoseconds / 1e9;

    /// <summary>Whether nothing at all was used.</summary>
    public bool IsZero => RunningMs == 0 && Starts == 0 && MemoryGibSeconds == 0 && DiskGbSeconds == 0 && CpuNanoseconds == 0 && EgressBytes == 0;

    /// <summary>The sum of this and <paramref name="other"/>.</summary>
    public UsageAmounts Add(UsageAmounts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new(RunningMs + other.RunningMs, Starts + other.Starts, MemoryGibSeconds + other.MemoryGibSeconds, DiskGbSeconds + other.DiskGbSeconds,
            CpuNanoseconds + other.CpuNanoseconds, EgressBytes + other.EgressBytes);
    }
}
