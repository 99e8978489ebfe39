namespace Berth.Hosting;

/// <summary>How a usage report groups its rows.</summary>
internal enum UsageGrouping
{
    /// <summary>One row per class.</summary>
    Class,

    /// <summary>One row per class and object.</summary>
    Object,

    /// <summary>One row per class and UTC hour.</summary>
    Hour,
}

/// <summary>
/// The answer of <c>GET /_berth/admin/usage</c> (docs/metering.md), serialized in snake_case: rows, their totals, the monthly
/// allowances and what is billable beyond them.
/// </summary>
internal sealed record UsageReport(
    string App, DateTimeOffset Since, DateTimeOffset Until, string By, IReadOnlyList<UsageReportRow> Rows, UsageReportTotals Totals, UsageIncluded Included,
    double BillableUsd)
{
    /// <summary>
    /// Builds the report of <paramref name="records"/> (stored and live rows, possibly several per key) grouped by
    /// <paramref name="by"/>, priced with <paramref name="options"/>. Totals are the sums of the rows as reported.
    /// </summary>
    public static UsageReport Create(
        string app, DateTimeOffset since, DateTimeOffset until, UsageGrouping by, IEnumerable<UsageRow> records, MeteringOptions options)
    {
        var groups = records
            .GroupBy(r => by switch
            {
                UsageGrouping.Object => (r.ClassName, r.ObjectId, (DateTimeOffset?)null),
                UsageGrouping.Hour => (r.ClassName, (string?)null, r.Hour),
                _ => (r.ClassName, (string?)null, (DateTimeOffset?)null),
            })
            .OrderBy(g => g.Key.ClassName, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Item2, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Item3);
        var rows = new List<UsageReportRow>();
        foreach (var group in groups)
        {
            var amounts = group.Aggregate(UsageAmounts.Zero, (sum, r) => sum.Add(r.Amounts));
            var name = by == UsageGrouping.Object ? group.Select(r => r.ObjectName).LastOrDefault(n => n is not null) : null;
            rows.Add(new UsageReportRow(group.Key.ClassName, group.Key.Item2, name, group.Key.Item3,
                amounts.RunningMs, amounts.Starts, amounts.MemoryGibSeconds, amounts.DiskGbSeconds, amounts.CpuVcpuSeconds, amounts.EgressBytes,
                Cost(amounts.MemoryGibSeconds, amounts.CpuVcpuSeconds, amounts.DiskGbSeconds, amounts.EgressBytes, options)));
        }

        var totals = new UsageReportTotals(
            rows.Sum(r => r.RunningMs), rows.Sum(r => r.Starts), rows.Sum(r => r.MemoryGibS), rows.Sum(r => r.DiskGbS), rows.Sum(r => r.CpuVcpuS),
            rows.Sum(r => r.EgressBytes), rows.Sum(r => r.CostUsd));
        var included = new UsageIncluded(options.IncludedMemoryGibSeconds, options.IncludedCpuVcpuSeconds, options.IncludedDiskGbSeconds, options.IncludedEgressBytes);
        var billable = Cost(
            Math.Max(0, totals.MemoryGibS - included.MemoryGibS), Math.Max(0, totals.CpuVcpuS - included.CpuVcpuS),
            Math.Max(0, totals.DiskGbS - included.DiskGbS), Math.Max(0, totals.EgressBytes - included.EgressBytes), options);
        return new UsageReport(app, since, until, by.ToString().ToLowerInvariant(), rows, totals, included, billable);
    }

    /// <summary>The price, in US dollars, of the amounts at <paramref name="options"/>' rates (no allowance).</summary>
    public static double Cost(double memoryGibSeconds, double cpuVcpuSeconds, double diskGbSeconds, long egressBytes, MeteringOptions options) =>
        memoryGibSeconds * options.MemoryRatePerGibSecond
        + cpuVcpuSeconds * options.CpuRatePerVcpuSecond
        + diskGbSeconds * options.DiskRatePerGbSecond
        + egressBytes / 1e9 * options.EgressRatePerGb;
}

/// <summary>One row of a usage report; <see cref="Object"/>, <see cref="ObjectName"/> and <see cref="Hour"/> are set as the grouping says.</summary>
internal sealed record UsageReportRow(
    string Class, string? Object, string? ObjectName, DateTimeOffset? Hour, long RunningMs, long Starts, double MemoryGibS, double DiskGbS, double CpuVcpuS,
    long EgressBytes, double CostUsd);

/// <summary>The sums of a report's rows.</summary>
internal sealed record UsageReportTotals(long RunningMs, long Starts, double MemoryGibS, double DiskGbS, double CpuVcpuS, long EgressBytes, double CostUsd);

/// <summary>The monthly allowances a report's billable amount is net of.</summary>
internal sealed record UsageIncluded(double MemoryGibS, double CpuVcpuS, double DiskGbS, long EgressBytes);
