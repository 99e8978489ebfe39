namespace Berth.Containers.Tests;

public sealed class ContainerOptionsValidatorTests
{
    private readonly ContainerOptionsValidator _validator = new();

    [Fact]
    public void Validate_Defaults_Succeeds()
    {
        var result = _validator.Validate(null, new ContainerOptions { NodeId = "n1" });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_CrashLoopMaxBackoffOverADay_NamesFieldAndTheLimit()
    {
        var result = _validator.Validate(null, new ContainerOptions { NodeId = "n1", CrashLoopMaxBackoff = TimeSpan.MaxValue });

        var failure = Assert.Single(result.Failures!);
        Assert.Equal($"Berth:Containers:CrashLoopMaxBackoff: '{TimeSpan.MaxValue}' is not allowed; use at most 1.00:00:00 (a day).", failure);
    }

    [Theory]
    [InlineData("shop")]
    [InlineData("my-app_2.v1")]
    [InlineData("A")]
    public void Validate_AllowedAppName_Succeeds(string appName)
    {
        var result = _validator.Validate(null, new ContainerOptions { NodeId = "n1", AppName = appName });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("my app")]
    [InlineData("shop/1")]
    [InlineData("café")]
    public void Validate_BadAppName_NamesFieldValueAndWhatIsAllowed(string appName)
    {
        var result = _validator.Validate(null, new ContainerOptions { NodeId = "n1", AppName = appName });

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.Equal($"Berth:Containers:AppName: '{appName}' is not allowed; use letters, digits, '-', '_' or '.'.", failure);
    }

    [Theory]
    [InlineData(nameof(ContainerOptions.InstanceStartTimeout))]
    [InlineData(nameof(ContainerOptions.PortReadyTimeout))]
    [InlineData(nameof(ContainerOptions.PollInterval))]
    public void Validate_ZeroTimeSpan_NamesFieldAndAsksForPositive(string field)
    {
        var options = new ContainerOptions { NodeId = "n1" };
        typeof(ContainerOptions).GetProperty(field)!.SetValue(options, TimeSpan.Zero);

        var result = _validator.Validate(null, options);

        var failure = Assert.Single(result.Failures!);
        Assert.Equal($"Berth:Containers:{field}: '00:00:00' is not allowed; use a positive time span.", failure);
    }

    [Fact]
    public void Validate_NegativePortReadyTimeout_ShowsTheValue()
    {
        var result = _validator.Validate(null, new ContainerOptions { NodeId = "n1", PortReadyTimeout = TimeSpan.FromSeconds(-5) });

        var failure = Assert.Single(result.Failures!);
        Assert.Equal("Berth:Containers:PortReadyTimeout: '-00:00:05' is not allowed; use a positive time span.", failure);
    }

    [Fact]
    public void Validate_ZeroStopGracePeriod_Succeeds()
    {
        var result = _validator.Validate(null, new ContainerOptions { NodeId = "n1", StopGracePeriod = TimeSpan.Zero });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_NegativeStopGracePeriod_AsksForZeroOrPositive()
    {
        var result = _validator.Validate(null, new ContainerOptions { NodeId = "n1", StopGracePeriod = TimeSpan.FromSeconds(-1) });

        var failure = Assert.Single(result.Failures!);
        Assert.Equal("Berth:Containers:StopGracePeriod: '-00:00:01' is not allowed; use zero or a positive time span.", failure);
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsEachOnce()
    {
        var options = new ContainerOptions
        {
            NodeId = "n1",
            AppName = "bad name",
            InstanceStartTimeout = TimeSpan.Zero,
            PollInterval = TimeSpan.FromMilliseconds(-1),
            StopGracePeriod = TimeSpan.FromSeconds(-1),
        };

        var result = _validator.Validate(null, options);

        Assert.Equal(4, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.StartsWith("Berth:Containers:AppName:", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Berth:Containers:InstanceStartTimeout:", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Berth:Containers:PollInterval:", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Berth:Containers:StopGracePeriod:", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_EmptyNodeId_NamesFieldAndHowToSetIt()
    {
        var result = _validator.Validate(null, new ContainerOptions());

        Assert.True(result.Failed);
        Assert.Contains("Berth:Containers:NodeId: empty", result.FailureMessage, StringComparison.Ordinal);
    }
}
