using Berth.Hosting;

namespace Berth.Hosting.Tests;

/// <summary>The rollout fields of <c>containers[]</c>: read with the seed's names, checked with the allowed values named.</summary>
public sealed class RolloutConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Parse_RolloutFields_Read()
    {
        var config = Parse("""
            "rollout_step_percentage": [25, 50, 100], "rollout_active_grace_period": 60, "rollout_stop_grace_period": 30
            """);

        var container = config.Containers[0];
        Assert.Equal([25, 50, 100], container.RolloutStepPercentage);
        Assert.Equal(TimeSpan.FromSeconds(60), container.RolloutActiveGracePeriod);
        Assert.Equal(TimeSpan.FromSeconds(30), container.RolloutStopGracePeriod);
    }

    [Fact]
    public void Parse_SingleStepNumber_OneStep()
    {
        Assert.Equal([30], Parse("\"rollout_step_percentage\": 30").Containers[0].RolloutStepPercentage);
    }

    [Theory]
    [InlineData("rollout_step_percentage", "[50, 10]")]
    [InlineData("rollout_step_percentage", "0")]
    [InlineData("rollout_step_percentage", "[]")]
    [InlineData("rollout_active_grace_period", "-1")]
    [InlineData("rollout_stop_grace_period", "901")]
    [InlineData("rollout_stop_grace_period", "\"15m\"")]
    public void Parse_RolloutFieldOutOfRange_RejectedNamingFieldAndAllowedValues(string field, string value)
    {
        var ex = Assert.Throws<BerthConfigException>(() => Parse($"\"{field}\": {value}"));

        var problem = Assert.Single(ex.Problems);
        Assert.StartsWith($"containers[0].{field}", problem, StringComparison.Ordinal);
        Assert.Contains(field == "rollout_step_percentage" ? "1-100" : "seconds", problem, StringComparison.Ordinal);
    }

    private BerthAppConfig Parse(string fields) => BerthConfigFile.Parse(
        $$"""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", {{fields}} } ] }""", _dir.Path);
}
