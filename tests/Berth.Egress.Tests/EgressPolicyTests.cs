namespace Berth.Egress.Tests;

public sealed class EgressPolicyTests
{
    [Fact]
    public void Decide_InternetOff_DeniesEveryHost()
    {
        var policy = EgressPolicy.Create(false, ["*"], []);
        var decision = policy.Decide("allowed.test");
        Assert.False(decision.Allowed);
        Assert.Equal("enable_internet=false", decision.Rule);
        Assert.True(policy.IsFiltered);
    }

    [Fact]
    public void Decide_DenyGlobAndAllowGlobBothMatch_DenyWins()
    {
        var policy = EgressPolicy.Create(true, ["*.test"], ["secret.*"]);
        var denied = policy.Decide("secret.test");
        Assert.False(denied.Allowed);
        Assert.Equal("denied_hosts 'secret.*'", denied.Rule);
        Assert.True(policy.Decide("open.test").Allowed);
    }

    [Fact]
    public void Decide_AllowListWithoutMatch_Denies()
    {
        var policy = EgressPolicy.Create(true, ["allowed.test"], []);
        Assert.True(policy.Decide("allowed.test").Allowed);
        var other = policy.Decide("other.test");
        Assert.False(other.Allowed);
        Assert.Equal("not in allowed_hosts", other.Rule);
    }

    [Fact]
    public void Decide_OnlyDenyList_AllowsTheRest()
    {
        var policy = EgressPolicy.Create(true, [], ["*.evil.test"]);
        Assert.True(policy.Decide("good.test").Allowed);
        Assert.False(policy.Decide("a.evil.test").Allowed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("bad host")]
    [InlineData("-lead.test")]
    [InlineData("a..test")]
    public void Decide_InvalidHost_Denies(string host) =>
        Assert.False(EgressPolicy.Create(true, [], []).Decide(host).Allowed);

    [Fact]
    public void IsFiltered_OpenPolicy_False() => Assert.False(EgressPolicy.Open.IsFiltered);

    [Fact]
    public void Create_InvalidPattern_Throws() =>
        Assert.Throws<ArgumentException>(() => EgressPolicy.Create(true, ["ok.test", "not ok"], []));
}
