using Cronos;

namespace Berth.Hosting;

/// <summary>Parses the standard five-field cron expressions used by <c>triggers.crons</c> and <c>AddCronTrigger</c>.</summary>
internal static class CronSchedule
{
    public const string Allowed =
        "five fields 'minute hour day-of-month month day-of-week' in UTC, such as '*/2 * * * *' or '0 9 * * MON-FRI'";

    /// <summary>The five fields: name and what each accepts, in order.</summary>
    internal static readonly (string Name, string Allowed)[] Fields =
    [
        ("minute", "0–59"),
        ("hour", "0–23"),
        ("day-of-month", "1–31, L (last day) or nW (nearest weekday)"),
        ("month", "1–12 or JAN–DEC"),
        ("day-of-week", "0–7 (0 and 7 are Sunday) or SUN–SAT, nL (last in the month) or n#k (k-th in the month)"),
    ];

    private const string FieldSyntax = "each as *, a value, a list (1,15), a range (1-5) or a step (*/2, 1-30/5)";

    private static readonly string[] Macros = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@every_minute"];

    /// <summary>
    /// Parses <paramref name="expression"/>; on failure <paramref name="error"/> is a complete sentence of Berth's own that names
    /// the field at fault and what it accepts (not the parser's message, which can end mid-sentence).
    /// </summary>
    public static bool TryParse(string expression, out CronExpression cron, out string error)
    {
        if (TryParseCore(expression, out cron))
        {
            error = "";
            return true;
        }

        error = Explain(expression);
        return false;
    }

    /// <summary>Parses or throws an <see cref="ArgumentException"/> that names the expression, the field at fault and the expected form.</summary>
    public static CronExpression Parse(string expression) =>
        TryParse(expression, out var cron, out var error)
            ? cron
            : throw new ArgumentException($"'{expression}' is not a valid cron expression: {error}; allowed: {Allowed}.", nameof(expression));

    private static bool TryParseCore(string expression, out CronExpression cron)
    {
        try
        {
            cron = CronExpression.Parse(expression.Trim(), CronFormat.Standard);
            return true;
        }
        catch (CronFormatException)
        {
            cron = null!;
            return false;
        }
    }

    /// <summary>Why <paramref name="expression"/> does not parse: the field count, or the first field that is wrong on its own.</summary>
    private static string Explain(string expression)
    {
        var trimmed = expression.Trim();
        if (trimmed.StartsWith('@'))
        {
            return $"'{trimmed}' is not a known macro; the macros are {string.Join(", ", Macros)}";
        }

        var parts = trimmed.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != Fields.Length)
        {
            return parts.Length == 6
                ? "it has 6 fields; a seconds field is not supported, so drop the first one"
                : $"it has {parts.Length} field{(parts.Length == 1 ? "" : "s")}, not 5";
        }

        for (var i = 0; i < parts.Length; i++)
        {
            // The field alone, the others left open: if that fails, this field is at fault.
            var probe = string.Join(' ', Enumerable.Range(0, parts.Length).Select(j => j == i ? parts[i] : "*"));
            if (!TryParseCore(probe, out _))
            {
                return $"field {i + 1} ({Fields[i].Name}) '{parts[i]}' is not allowed; the {Fields[i].Name} field takes {Fields[i].Allowed}, {FieldSyntax}";
            }
        }

        // Each field is fine alone; together they never match (Cronos refuses, e.g., day-of-month and day-of-week both set to L).
        return "its fields are each valid but cannot be combined (day-of-month and day-of-week both set, with L, W or #)";
    }
}
