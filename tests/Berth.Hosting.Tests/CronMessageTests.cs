namespace Berth.Hosting.Tests;

/// <summary>A bad cron line gets Berth's own complete message: the line, the field at fault and what it accepts.</summary>
public sealed class CronMessageTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string ProblemFor(string cron)
    {
        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse(
            $$"""{ "name": "app", "triggers": { "crons": ["{{cron}}"] } }""", _dir.Path));
        return Assert.Single(ex.Problems);
    }

    [Theory]
    [InlineData("61 * * * *", "field 1 (minute) '61' is not allowed; the minute field takes 0–59")]
    [InlineData("0 24 * * *", "field 2 (hour) '24' is not allowed; the hour field takes 0–23")]
    [InlineData("0 0 32 * *", "field 3 (day-of-month) '32' is not allowed; the day-of-month field takes 1–31")]
    [InlineData("0 0 * 13 *", "field 4 (month) '13' is not allowed; the month field takes 1–12 or JAN–DEC")]
    [InlineData("0 0 * * FUNDAY", "field 5 (day-of-week) 'FUNDAY' is not allowed; the day-of-week field takes 0–7")]
    public void Parse_BadCronField_NamesLineFieldAndAllowedValues(string cron, string expected)
    {
        var problem = ProblemFor(cron);

        Assert.StartsWith($"triggers.crons[0]: '{cron}' is not allowed: {expected}", problem, StringComparison.Ordinal);
        Assert.EndsWith($"allowed: {CronSchedule.Allowed}", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("*/2 * * *", "it has 4 fields, not 5")]
    [InlineData("0 */2 * * * *", "it has 6 fields; a seconds field is not supported, so drop the first one")]
    [InlineData("every minute", "it has 2 fields, not 5")]
    [InlineData("@sometimes", "'@sometimes' is not a known macro; the macros are @yearly")]
    public void Parse_BadCronShape_SaysWhatIsWrong(string cron, string expected)
    {
        Assert.StartsWith($"triggers.crons[0]: '{cron}' is not allowed: {expected}", ProblemFor(cron), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_GoodCrons_Accepted()
    {
        var config = BerthConfigFile.Parse("""{ "name": "app", "triggers": { "crons": ["*/2 * * * *", "0 9 * * MON-FRI", "@daily"] } }""", _dir.Path);

        Assert.Equal(3, config.Crons.Count);
    }

    [Fact]
    public void AddCronTrigger_BadExpression_MessageNamesField()
    {
        var ex = Assert.Throws<ArgumentException>(() => CronSchedule.Parse("0 0 32 * *"));

        Assert.Contains("field 3 (day-of-month) '32' is not allowed", ex.Message, StringComparison.Ordinal);
    }
}
