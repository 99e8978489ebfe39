using System.Globalization;
using System.Text.Json;

namespace Berth.Hosting;

/// <summary>
/// The <c>metering</c> section of <c>berth.jsonc</c>: rates and monthly allowances (docs/metering.md). Every field is
/// optional; an absent one keeps <see cref="MeteringOptions"/>' default (the seed's price). They feed the
/// <c>Berth:Metering:*</c> configuration keys with the lowest precedence.
/// </summary>
/// <param name="Enabled"><c>metering.enabled</c>: whether usage is recorded (<see cref="MeteringOptions.Enabled"/>).</param>
/// <param name="MemoryRate"><c>metering.rates.memory_gib_s</c>, US dollars per GiB-second.</param>
/// <param name="CpuRate"><c>metering.rates.cpu_vcpu_s</c>, US dollars per vCPU-second.</param>
/// <param name="DiskRate"><c>metering.rates.disk_gb_s</c>, US dollars per GB-second.</param>
/// <param name="EgressRate"><c>metering.rates.egress_gb</c>, US dollars per GB.</param>
/// <param name="IncludedMemory"><c>metering.included.memory_gib_s</c>, GiB-seconds per month.</param>
/// <param name="IncludedCpu"><c>metering.included.cpu_vcpu_s</c>, vCPU-seconds per month.</param>
/// <param name="IncludedDisk"><c>metering.included.disk_gb_s</c>, GB-seconds per month.</param>
/// <param name="IncludedEgressGb"><c>metering.included.egress_gb</c>, GB per month.</param>
public sealed record MeteringConfig(
    bool? Enabled = null, double? MemoryRate = null, double? CpuRate = null, double? DiskRate = null, double? EgressRate = null,
    double? IncludedMemory = null, double? IncludedCpu = null, double? IncludedDisk = null, double? IncludedEgressGb = null)
{
    /// <summary>The <c>Berth:Metering:*</c> configuration keys the set fields feed.</summary>
    public IEnumerable<KeyValuePair<string, string?>> ConfigurationKeys()
    {
        static KeyValuePair<string, string?> Key(string name, object value) =>
            KeyValuePair.Create($"{MeteringOptions.SectionName}:{name}", (string?)Convert.ToString(value, CultureInfo.InvariantCulture));

        if (Enabled is { } enabled) yield return Key(nameof(MeteringOptions.Enabled), enabled);
        if (MemoryRate is { } memory) yield return Key(nameof(MeteringOptions.MemoryRatePerGibSecond), memory);
        if (CpuRate is { } cpu) yield return Key(nameof(MeteringOptions.CpuRatePerVcpuSecond), cpu);
        if (DiskRate is { } disk) yield return Key(nameof(MeteringOptions.DiskRatePerGbSecond), disk);
        if (EgressRate is { } egress) yield return Key(nameof(MeteringOptions.EgressRatePerGb), egress);
        if (IncludedMemory is { } im) yield return Key(nameof(MeteringOptions.IncludedMemoryGibSeconds), im);
        if (IncludedCpu is { } ic) yield return Key(nameof(MeteringOptions.IncludedCpuVcpuSeconds), ic);
        if (IncludedDisk is { } id) yield return Key(nameof(MeteringOptions.IncludedDiskGbSeconds), id);
        if (IncludedEgressGb is { } ie) yield return Key(nameof(MeteringOptions.IncludedEgressBytes), (long)Math.Round(ie * 1e9));
    }
}

// The `metering` section of berth.jsonc.
internal sealed partial class ConfigReader
{
    internal static readonly string[] MeteringFields = ["enabled", "rates", "included"];
    internal static readonly string[] MeteringRateFields = ["memory_gib_s", "cpu_vcpu_s", "disk_gb_s", "egress_gb"];
    internal static readonly string[] MeteringIncludedFields = ["memory_gib_s", "cpu_vcpu_s", "disk_gb_s", "egress_gb"];

    private const string RateAllowed = "a number of US dollars from 0 to 1000";
    private const string AllowanceAllowed = "a number from 0 to 1e15";

    private MeteringConfig? ReadMetering(JsonElement value)
    {
        if (Fields(value, "metering", MeteringFields) is not { } fields)
        {
            return null;
        }

        var config = new MeteringConfig(Enabled: fields.TryGetValue("enabled", out var e) ? Bool(e, "metering.enabled") : null);
        if (fields.TryGetValue("rates", out var r) && Fields(r, "metering.rates", MeteringRateFields) is { } rates)
        {
            config = config with
            {
                MemoryRate = Rate(rates, "memory_gib_s"),
                CpuRate = Rate(rates, "cpu_vcpu_s"),
                DiskRate = Rate(rates, "disk_gb_s"),
                EgressRate = Rate(rates, "egress_gb"),
            };
        }

        if (fields.TryGetValue("included", out var i) && Fields(i, "metering.included", MeteringIncludedFields) is { } included)
        {
            config = config with
            {
                IncludedMemory = Allowance(included, "memory_gib_s"),
                IncludedCpu = Allowance(included, "cpu_vcpu_s"),
                IncludedDisk = Allowance(included, "disk_gb_s"),
                IncludedEgressGb = Allowance(included, "egress_gb"),
            };
        }

        return config;
    }

    private double? Rate(Dictionary<string, JsonElement> fields, string name) =>
        fields.TryGetValue(name, out var value) ? Number(value, $"metering.rates.{name}", 0, 1000, RateAllowed) : null;

    private double? Allowance(Dictionary<string, JsonElement> fields, string name) =>
        fields.TryGetValue(name, out var value) ? Number(value, $"metering.included.{name}", 0, 1e15, AllowanceAllowed) : null;
}
