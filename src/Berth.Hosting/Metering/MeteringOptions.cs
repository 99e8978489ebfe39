using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>
/// Metering (docs/metering.md): how often recorded usage is written to <c>{DataDirectory}/usage.db</c>, and the rates and
/// monthly included allowances usage is priced with. Bound from <c>Berth:Metering</c>; the app's <c>berth.jsonc</c> sets
/// the rates and allowances with its <c>metering</c> section (lowest precedence). Defaults are the seed platform's published
/// prices ("Compute Pricing (per 10ms)" and "Egress Pricing", Workers Standard).
/// </summary>
public sealed class MeteringOptions
{
    /// <summary>The configuration section: <c>Berth:Metering</c>.</summary>
    public const string SectionName = "Berth:Metering";

    /// <summary>Whether container usage is recorded at all.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How often recorded usage is written to the store (and running containers' CPU sampled): a crash of the host loses at
    /// most this much of the usage recorded since the last write. From 100 ms to 1 hour.
    /// </summary>
    /// <value>Defaults to 10 seconds.</value>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>US dollars per GiB-second of provisioned memory (<c>metering.rates.memory_gib_s</c>).</summary>
    /// <value>Defaults to 0.0000025, the seed's "$0.0000025 per GiB-second".</value>
    public double MemoryRatePerGibSecond { get; set; } = 0.0000025;

    /// <summary>US dollars per vCPU-second of active CPU (<c>metering.rates.cpu_vcpu_s</c>).</summary>
    /// <value>Defaults to 0.000020, the seed's "$0.000020 per vCPU-second".</value>
    public double CpuRatePerVcpuSecond { get; set; } = 0.000020;

    /// <summary>US dollars per GB-second of provisioned disk (<c>metering.rates.disk_gb_s</c>; GB = 10⁹ bytes).</summary>
    /// <value>Defaults to 0.00000007, the seed's "$0.00000007 per GB-second".</value>
    public double DiskRatePerGbSecond { get; set; } = 0.00000007;

    /// <summary>US dollars per GB (10⁹ bytes) sent out through the egress proxy (<c>metering.rates.egress_gb</c>).</summary>
    /// <value>Defaults to 0.025, the seed's rate for North America &amp; Europe ("$0.025" per GB).</value>
    public double EgressRatePerGb { get; set; } = 0.025;

    /// <summary>GiB-seconds of memory included per month before billing (<c>metering.included.memory_gib_s</c>).</summary>
    /// <value>Defaults to 90 000, the seed's "25 GiB-hours" (25 × 3600).</value>
    public double IncludedMemoryGibSeconds { get; set; } = 25 * 3600;

    /// <summary>vCPU-seconds of active CPU included per month (<c>metering.included.cpu_vcpu_s</c>).</summary>
    /// <value>Defaults to 22 500, the seed's "375 vCPU-minutes" (375 × 60).</value>
    public double IncludedCpuVcpuSeconds { get; set; } = 375 * 60;

    /// <summary>GB-seconds of disk included per month (<c>metering.included.disk_gb_s</c>).</summary>
    /// <value>Defaults to 720 000, the seed's "200 GB-hours" (200 × 3600).</value>
    public double IncludedDiskGbSeconds { get; set; } = 200 * 3600;

    /// <summary>Egress bytes included per month (<c>metering.included.egress_gb</c>, in GB in the file).</summary>
    /// <value>Defaults to 10¹² (1 TB), the seed's North America &amp; Europe allowance.</value>
    public long IncludedEgressBytes { get; set; } = 1_000_000_000_000;
}

/// <summary>Validates <see cref="MeteringOptions"/> at start-up; every failure names the key and what is allowed.</summary>
internal sealed class MeteringOptionsValidator : IValidateOptions<MeteringOptions>
{
    /// <summary>Shortest <see cref="MeteringOptions.FlushInterval"/>.</summary>
    public static readonly TimeSpan MinFlushInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest <see cref="MeteringOptions.FlushInterval"/>.</summary>
    public static readonly TimeSpan MaxFlushInterval = TimeSpan.FromHours(1);

    public ValidateOptionsResult Validate(string? name, MeteringOptions options)
    {
        var failures = new List<string>();
        if (options.FlushInterval < MinFlushInterval || options.FlushInterval > MaxFlushInterval)
        {
            failures.Add($"Berth:Metering:FlushInterval is {options.FlushInterval}; allowed: from 00:00:00.1 to 01:00:00.");
        }

        Rate(failures, nameof(MeteringOptions.MemoryRatePerGibSecond), options.MemoryRatePerGibSecond);
        Rate(failures, nameof(MeteringOptions.CpuRatePerVcpuSecond), options.CpuRatePerVcpuSecond);
        Rate(failures, nameof(MeteringOptions.DiskRatePerGbSecond), options.DiskRatePerGbSecond);
        Rate(failures, nameof(MeteringOptions.EgressRatePerGb), options.EgressRatePerGb);
        Rate(failures, nameof(MeteringOptions.IncludedMemoryGibSeconds), options.IncludedMemoryGibSeconds);
        Rate(failures, nameof(MeteringOptions.IncludedCpuVcpuSeconds), options.IncludedCpuVcpuSeconds);
        Rate(failures, nameof(MeteringOptions.IncludedDiskGbSeconds), options.IncludedDiskGbSeconds);
        if (options.IncludedEgressBytes < 0)
        {
            failures.Add($"Berth:Metering:IncludedEgressBytes is {options.IncludedEgressBytes}; allowed: a number of bytes ≥ 0.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Rate(List<string> failures, string key, double value)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            failures.Add($"Berth:Metering:{key} is {value}; allowed: a finite number ≥ 0.");
        }
    }
}
