using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Berth.Cli;

/// <summary>One row of <c>GET usage</c> (docs/metering.md); <c>object</c>, <c>object_name</c> and <c>hour</c> as the grouping says.</summary>
internal sealed record UsageRowInfo(
    string Class, string? Object, string? ObjectName, DateTimeOffset? Hour, long RunningMs, long Starts, double MemoryGibS, double DiskGbS, double CpuVcpuS,
    long EgressBytes, double CostUsd);

/// <summary>The totals of a usage report.</summary>
internal sealed record UsageTotalsInfo(long RunningMs, long Starts, double MemoryGibS, double DiskGbS, double CpuVcpuS, long EgressBytes, double CostUsd);

/// <summary>A usage report as the admin API answers it.</summary>
internal sealed record UsageInfo(
    string App, DateTimeOffset Since, DateTimeOffset Until, string By, IReadOnlyList<UsageRowInfo> Rows, UsageTotalsInfo Totals, double BillableUsd);

internal sealed partial class AdminClient
{
    private static readonly JsonSerializerOptions UsageJson = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The app's usage report: the JSON as the host sent it, and read.</summary>
    /// <param name="since">Start of the window; <see langword="null"/>: the start of the current month (the host's default).</param>
    /// <param name="by"><c>class</c>, <c>object</c> or <c>hour</c>.</param>
    /// <param name="className">Only this class; <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<(string Json, UsageInfo Report)> UsageAsync(DateTimeOffset? since, string by, string? className, CancellationToken cancellationToken)
    {
        var query = $"usage?by={Uri.EscapeDataString(by)}"
            + (since is { } s ? $"&since={Uri.EscapeDataString(s.UtcDateTime.ToString("O", CultureInfo.InvariantCulture))}" : "")
            + (className is null ? "" : $"&class={Uri.EscapeDataString(className)}");
        using var response = await SendAsync(HttpMethod.Get, query, null, cancellationToken);
        var json = System.Text.Encoding.UTF8.GetString((await ReadAnswerAsync(response, cancellationToken)).Span);
        try
        {
            return (json, JsonSerializer.Deserialize<UsageInfo>(json, UsageJson)
                ?? throw new CliException(ExitCodes.HostError, "The host sent an empty usage report."));
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.HostError, $"The host sent a usage report berth cannot read ({ex.Message}).");
        }
    }
}

// berth usage (issue 15; docs/metering.md).
internal sealed partial class BerthCli
{
    private Command CreateUsageCommand()
    {
        var app = new Option<string?>("--app") { Description = "The app to report on; the host must serve it (default: the host's app)" };
        var since = new Option<string?>("--since") { Description = $"Usage since then (default: the start of this month, UTC): {SinceParser.Allowed}" };
        var by = new Option<string>("--by")
        {
            Description = "One row per class, object or hour",
            DefaultValueFactory = _ => "class",
        };
        by.AcceptOnlyFromAmong("class", "object", "hour");
        var className = new Option<string?>("--class", "-c") { Description = "Only this container class" };
        var json = new Option<bool>("--json") { Description = "Print the host's JSON report" };
        var usage = new Command("usage",
            "Show the app's metered usage: running time, memory, CPU, disk, egress and their price (docs/metering.md). "
            + "Exit codes: 0 done, 64 usage, 66 unknown class, 69 host unreachable, 77 token.")
        {
            app, since, by, className, json,
        };
        usage.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            DateTimeOffset? from = parse.GetValue(since) is { } text ? SinceParser.Parse(text, _environment.Time.GetUtcNow()) : null;
            var (raw, report) = await client.UsageAsync(from, parse.GetValue(by)!, parse.GetValue(className), ct);
            if (parse.GetValue(app) is { } expected && !string.Equals(expected, report.App, StringComparison.Ordinal))
            {
                throw new CliException(ExitCodes.Usage, $"--app '{expected}': the host serves app '{report.App}'; point --host at the host of '{expected}'.");
            }

            await _output.WriteAsync(parse.GetValue(json) ? raw + Environment.NewLine : UsageTable.Render(report));
            return ExitCodes.Success;
        }));
        return usage;
    }
}

/// <summary>The table <c>berth usage</c> prints: plain aligned columns, a totals line and what is billable.</summary>
internal static class UsageTable
{
    /// <summary>Renders <paramref name="report"/> as text ending in a line break.</summary>
    public static string Render(UsageInfo report)
    {
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Border(TableBorder.None).HideRowSeparators();
        var key = report.By switch { "object" => "OBJECT", "hour" => "HOUR", _ => null };
        string[] headers = key is null
            ? ["CLASS", "STARTS", "RUNNING", "MEMORY GiB-s", "CPU vCPU-s", "DISK GB-s", "EGRESS B", "COST USD"]
            : ["CLASS", key, "STARTS", "RUNNING", "MEMORY GiB-s", "CPU vCPU-s", "DISK GB-s", "EGRESS B", "COST USD"];
        for (var i = 0; i < headers.Length; i++)
        {
            table.AddColumn(new TableColumn(new Text(headers[i])).PadLeft(0).PadRight(i == headers.Length - 1 ? 0 : 2).NoWrap());
        }

        IRenderable[] Cells(string first, string? second, long starts, long runningMs, double memory, double cpu, double disk, long egress, double cost)
        {
            var cells = new List<IRenderable> { new Text(TerminalText.Escape(first)) };
            if (key is not null)
            {
                cells.Add(new Text(TerminalText.Escape(second ?? "-")));
            }

            cells.AddRange([
                new Text(starts.ToString(inv)), new Text((runningMs / 1000.0).ToString("0.00", inv) + "s"), new Text(memory.ToString("0.###", inv)),
                new Text(cpu.ToString("0.###", inv)), new Text(disk.ToString("0.###", inv)), new Text(egress.ToString(inv)), new Text(cost.ToString("0.000000", inv)),
            ]);
            return [.. cells];
        }

        foreach (var r in report.Rows)
        {
            // Text, not markup: class and object names come from the app.
            var second = report.By == "object" ? r.ObjectName ?? BerthCli.Short(r.Object ?? "-") : r.Hour?.UtcDateTime.ToString("yyyy-MM-dd HH:00", inv);
            table.AddRow(Cells(r.Class, second, r.Starts, r.RunningMs, r.MemoryGibS, r.CpuVcpuS, r.DiskGbS, r.EgressBytes, r.CostUsd));
        }

        var t = report.Totals;
        table.AddRow(Cells("TOTAL", "", t.Starts, t.RunningMs, t.MemoryGibS, t.CpuVcpuS, t.DiskGbS, t.EgressBytes, t.CostUsd));

        using var writer = new StringWriter(inv);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 4096;
        console.Write(table);
        var lines = writer.ToString().ReplaceLineEndings("\n").Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        lines.Insert(0, $"Usage of {report.App} from {report.Since.UtcDateTime.ToString("yyyy-MM-dd HH:mm", inv)} to {report.Until.UtcDateTime.ToString("yyyy-MM-dd HH:mm", inv)} UTC:");
        lines.Add($"Billable beyond the monthly included usage: ${report.BillableUsd.ToString("0.000000", inv)}");
        return string.Join(Environment.NewLine, lines) + Environment.NewLine;
    }
}
