using System.Globalization;

namespace Berth;

/// <summary>
/// The resources a container may use: vCPU share, memory and ephemeral disk.
/// Named types mirror the seed platform; custom types are bounded by <see cref="CustomMinVcpu"/>,
/// <see cref="CustomMaxVcpu"/>, <see cref="CustomMaxMemoryMib"/> and <see cref="CustomMaxDiskMb"/>.
/// </summary>
public sealed record InstanceType
{
    /// <summary>Smallest vCPU count a custom instance type may ask for.</summary>
    public const double CustomMinVcpu = 1;

    /// <summary>Largest vCPU count a custom instance type may ask for.</summary>
    public const double CustomMaxVcpu = 4;

    /// <summary>Largest memory, in MiB, a custom instance type may ask for (12 GiB).</summary>
    public const int CustomMaxMemoryMib = 12 * 1024;

    /// <summary>Smallest memory, in MiB, a custom instance type may ask for.</summary>
    public const int CustomMinMemoryMib = 128;

    /// <summary>Largest disk, in MB, a custom instance type may ask for (20 GB).</summary>
    public const int CustomMaxDiskMb = 20_000;

    private InstanceType(string name, double vcpu, int memoryMib, int diskMb)
    {
        Name = name;
        Vcpu = vcpu;
        MemoryMib = memoryMib;
        DiskMb = diskMb;
    }

    /// <summary>1/16 vCPU, 256 MiB, 2 GB (alias <c>dev</c>).</summary>
    public static InstanceType Lite { get; } = new("lite", 1.0 / 16, 256, 2_000);

    /// <summary>1/4 vCPU, 1 GiB, 4 GB.</summary>
    public static InstanceType Basic { get; } = new("basic", 0.25, 1024, 4_000);

    /// <summary>1/2 vCPU, 4 GiB, 8 GB (alias <c>standard</c>).</summary>
    public static InstanceType Standard1 { get; } = new("standard-1", 0.5, 4096, 8_000);

    /// <summary>1 vCPU, 6 GiB, 12 GB.</summary>
    public static InstanceType Standard2 { get; } = new("standard-2", 1, 6144, 12_000);

    /// <summary>2 vCPU, 8 GiB, 16 GB.</summary>
    public static InstanceType Standard3 { get; } = new("standard-3", 2, 8192, 16_000);

    /// <summary>4 vCPU, 12 GiB, 20 GB.</summary>
    public static InstanceType Standard4 { get; } = new("standard-4", 4, 12288, 20_000);

    /// <summary>The names accepted by <see cref="TryParse"/>, aliases included.</summary>
    public static IReadOnlyList<string> KnownNames { get; } =
        ["lite", "dev", "basic", "standard-1", "standard", "standard-2", "standard-3", "standard-4"];

    /// <summary>Name of the type (<c>custom</c> for custom types).</summary>
    public string Name { get; }

    /// <summary>vCPU share, for example 0.25 for a quarter of one CPU.</summary>
    public double Vcpu { get; }

    /// <summary>Memory limit in MiB.</summary>
    public int MemoryMib { get; }

    /// <summary>Ephemeral disk in MB.</summary>
    public int DiskMb { get; }

    /// <summary>Memory limit in bytes.</summary>
    public long MemoryBytes => MemoryMib * 1024L * 1024L;

    /// <summary>Disk limit in bytes.</summary>
    public long DiskBytes => DiskMb * 1_000_000L;

    /// <summary>
    /// Most processes and threads one container may hold (the pids cgroup): 512 per started quarter vCPU, so
    /// <c>lite</c> and <c>basic</c> get 512 and <c>standard-4</c> 8192. A fork bomb stops there, inside its container.
    /// </summary>
    public long PidsLimit => 512L * QuarterVcpus;

    /// <summary>
    /// Most open files and sockets one process of the container may hold (<c>RLIMIT_NOFILE</c>, soft and hard): 4096 per
    /// started quarter vCPU, at most 16384 (an engine cannot give containers more than its own hard limit, often 20000 or
    /// more), so a process that opens 100k sockets fails inside its container long before the host's tables fill.
    /// </summary>
    public long OpenFilesLimit => Math.Min(16_384L, 4_096L * QuarterVcpus);

    private long QuarterVcpus => Math.Max(1, (long)Math.Ceiling(Vcpu * 4 - 1e-9));

    /// <summary>The vCPU share as Docker's NanoCPUs.</summary>
    public long NanoCpus => (long)Math.Round(Vcpu * 1_000_000_000);

    /// <summary>Finds a named instance type; names are case-insensitive.</summary>
    public static bool TryParse(string? name, out InstanceType instanceType)
    {
        instanceType = name?.Trim().ToLowerInvariant() switch
        {
            "lite" or "dev" => Lite,
            "basic" => Basic,
            "standard-1" or "standard" => Standard1,
            "standard-2" => Standard2,
            "standard-3" => Standard3,
            "standard-4" => Standard4,
            _ => null!,
        };
        return instanceType is not null;
    }

    /// <summary>Finds a named instance type or throws an <see cref="ArgumentException"/> that lists the allowed names.</summary>
    public static InstanceType Parse(string name) =>
        TryParse(name, out var type)
            ? type
            : throw new ArgumentException(
                $"Unknown instance type '{name}'. Allowed: {string.Join(", ", KnownNames)}, or a custom {{vcpu, memory_mib, disk_mb}}.",
                nameof(name));

    /// <summary>Creates a custom instance type, validating its bounds.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside the allowed range; the message names it.</exception>
    public static InstanceType Custom(double vcpu, int memoryMib, int diskMb)
    {
        if (vcpu is < CustomMinVcpu or > CustomMaxVcpu || double.IsNaN(vcpu))
        {
            throw new ArgumentOutOfRangeException(nameof(vcpu), vcpu,
                string.Create(CultureInfo.InvariantCulture, $"vcpu must be between {CustomMinVcpu} and {CustomMaxVcpu}."));
        }

        if (memoryMib is < CustomMinMemoryMib or > CustomMaxMemoryMib)
        {
            throw new ArgumentOutOfRangeException(nameof(memoryMib), memoryMib,
                $"memory_mib must be between {CustomMinMemoryMib} and {CustomMaxMemoryMib} (12 GiB).");
        }

        if (diskMb is < 1 or > CustomMaxDiskMb)
        {
            throw new ArgumentOutOfRangeException(nameof(diskMb), diskMb,
                $"disk_mb must be between 1 and {CustomMaxDiskMb} (20 GB).");
        }

        return new InstanceType("custom", vcpu, memoryMib, diskMb);
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name} ({Vcpu:0.####} vCPU, {MemoryMib} MiB, {DiskMb} MB)");
}
