using Cronos;

namespace Berth.Hosting;

/// <summary>Parses the standard five-field cron expressions used by <c>triggers.crons</c> and <c>AddCronTrigger</c>.</summary>
internal static class CronSchedule
{
    public const string Allowed =
        "five fields 'minute hour day-of-month month day-of-week' in UTC, such as '*/2 * * * *' or '0 9 * * MON-FRI'";

    public static bool TryParse(string expression, out CronExpression cron, out string error)
    {
        try
        {
            cron = CronExpression.Parse(expression.Trim(), CronFormat.Standard);
            error = "";
            return true;
        }
        catch (CronFormatException ex)
        {
            cron = null!;
            error = ex.Message;
            return false;
        }
    }

    /// <summary>Parses or throws an <see cref="ArgumentException"/> that names the expression and the expected form.</summary>
    public static CronExpression Parse(string expression) =>
        TryParse(expression, out var cron, out var error)
            ? cron
            : throw new ArgumentException(
                $"'{expression}' is not a valid cron expression ({error}); allowed: {Allowed}.", nameof(expression));
}
