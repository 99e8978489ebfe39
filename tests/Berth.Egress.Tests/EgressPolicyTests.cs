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
    [InlineData("10.1.2.3")]
    [InlineData("1.2.3.4")]
    [InlineData("2130706433")]
    [InlineData("0x7f000001")]
    [InlineData("0x7f.1")]
    [InlineData("0177.0.0.1")]
    [InlineData("127.1")]
    [InlineData("::1")]
    [InlineData("2001:db8::1")]
    [InlineData("1.2.3.4.")]
    public void Decide_IpLiteralWithDenyListOnly_Denied(string host)
    {
        var decision = EgressPolicy.Create(true, [], ["*.evil.test"]).Decide(host);
        Assert.False(decision.Allowed);
        Assert.StartsWith("ip literal", decision.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_IpLiteralWithAllowAll_Denied() =>
        Assert.False(EgressPolicy.Create(true, ["*"], []).Decide("93.184.216.34").Allowed);

    [Theory]
    [InlineData("123.example.test")]
    [InlineData("0x.test")]
    [InlineData("1e100.net")]
    public void Decide_NameWithDigitsButNotAnAddress_Allowed(string host) =>
        Assert.True(EgressPolicy.Create(true, [], ["*.evil.test"]).Decide(host).Allowed);

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
