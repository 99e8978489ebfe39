namespace Berth.Egress.Tests;

public sealed class HostGlobTests
{
    [Theory]
    [InlineData("api.example.com", "api.example.com", true)]
    [InlineData("api.example.com", "API.Example.COM.", true)]
    [InlineData("api.example.com", "x.api.example.com", false)]
    [InlineData("*.example.com", "a.example.com", true)]
    [InlineData("*.example.com", "a.b.example.com", true)]
    [InlineData("*.example.com", "example.com", false)]
    [InlineData("*.example.com", "evilexample.com", false)]
    [InlineData("*.example.com", "example.com.evil.test", false)]
    [InlineData("api.*.internal", "api.eu.internal", true)]
    [InlineData("api.*.internal", "api.internal", false)]
    [InlineData("api.*.internal", "api.a.b.internal", false)]
    [InlineData("api-*.example.com", "api-v2.example.com", true)]
    [InlineData("api-*.example.com", "api-.example.com", true)]
    [InlineData("api-*.example.com", "apix.example.com", false)]
    [InlineData("*", "anything.at.all", true)]
    [InlineData("*.example.com", "a..example.com", false)]
    public void IsMatch_Pattern_MatchesLabelByLabel(string pattern, string host, bool expected) =>
        Assert.Equal(expected, HostGlob.Parse(pattern).IsMatch(host));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("a..b")]
    [InlineData("exa mple.com")]
    [InlineData("example.com:443")]
    [InlineData("http://example.com")]
    public void TryParse_InvalidPattern_GivesReason(string pattern)
    {
        Assert.False(HostGlob.TryParse(pattern, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Parse_InvalidPattern_ThrowsArgumentException() =>
        Assert.Throws<ArgumentException>(() => HostGlob.Parse("bad host"));
}
