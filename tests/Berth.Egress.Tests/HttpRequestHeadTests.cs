using System.Text;

namespace Berth.Egress.Tests;

public sealed class HttpRequestHeadTests
{
    private static HttpParseStatus Parse(string text, out HttpRequestHead? head) => HttpRequestHead.TryParse(Encoding.Latin1.GetBytes(text), out head);

    [Fact]
    public void TryParse_OriginForm_HostFromHeader()
    {
        Assert.Equal(HttpParseStatus.Complete, Parse("GET /x?y=1 HTTP/1.1\r\nHost: Allowed.Test:8080\r\nAccept: */*\r\n\r\nbody", out var head));
        Assert.Equal(HttpTargetForm.Origin, head!.Form);
        Assert.Equal("allowed.test", head.Host);
        Assert.Equal(8080, head.Port);
        Assert.Equal("/x?y=1", head.PathAndQuery);
        Assert.Equal(Encoding.Latin1.GetByteCount("GET /x?y=1 HTTP/1.1\r\nHost: Allowed.Test:8080\r\nAccept: */*\r\n\r\n"), head.Length);
    }

    [Fact]
    public void TryParse_AbsoluteForm_HostAndPathFromTarget()
    {
        Assert.Equal(HttpParseStatus.Complete, Parse("POST http://api.test/v1/items HTTP/1.1\r\nHost: api.test\r\nProxy-Connection: keep-alive\r\n\r\n", out var head));
        Assert.Equal(HttpTargetForm.Absolute, head!.Form);
        Assert.Equal("api.test", head.Host);
        Assert.Equal(80, head.Port);
        Assert.Equal("/v1/items", head.PathAndQuery);
        var upstream = Encoding.Latin1.GetString(head.ToUpstreamHead());
        Assert.StartsWith("POST /v1/items HTTP/1.1\r\nHost: api.test\r\n", upstream, StringComparison.Ordinal);
        Assert.DoesNotContain("Proxy-Connection", upstream, StringComparison.Ordinal);
        Assert.EndsWith("Connection: close\r\n\r\n", upstream, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_Connect_AuthorityWithPort()
    {
        Assert.Equal(HttpParseStatus.Complete, Parse("CONNECT secure.test:443 HTTP/1.1\r\nHost: secure.test:443\r\n\r\n", out var head));
        Assert.Equal(HttpTargetForm.Authority, head!.Form);
        Assert.Equal("secure.test", head.Host);
        Assert.Equal(443, head.Port);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n")]            // two Host headers
    [InlineData("GET / HTTP/1.1\r\n\r\n")]                                            // no Host
    [InlineData("GET http://a.test/ HTTP/1.1\r\nHost: b.test\r\n\r\n")]               // target and Host disagree
    [InlineData("GET https://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")]              // proxy would have to originate TLS
    [InlineData("GET / HTTP/2.0\r\nHost: a.test\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\n Host: a.test\r\n\r\n")]                           // obsolete line folding
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\r\nX: a\0b\r\n\r\n")]                 // control character
    [InlineData("GET / HTTP/1.1\r\nHost: user@a.test\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a.test:99999\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a.test:\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: bad host\r\n\r\n")]
    [InlineData("CONNECT a.test HTTP/1.1\r\n\r\n")]                                   // CONNECT without port
    [InlineData("get / HTTP/1.1\r\nHost: a.test\r\n\r\n")]
    [InlineData("GET  / HTTP/1.1\r\nHost: a.test\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nBad Header: x\r\nHost: a.test\r\n\r\n")]
    public void TryParse_HostileHead_Invalid(string text) => Assert.Equal(HttpParseStatus.Invalid, Parse(text, out _));

    [Fact]
    public void TryParse_IncompleteHead_NeedsMore() =>
        Assert.Equal(HttpParseStatus.NeedMore, Parse("GET / HTTP/1.1\r\nHost: a.te", out _));

    [Fact]
    public void TryParse_HeadLargerThanLimit_Invalid()
    {
        var text = "GET / HTTP/1.1\r\nHost: a.test\r\nX: " + new string('a', HttpRequestHead.MaxHeadBytes) + "\r\n\r\n";
        Assert.Equal(HttpParseStatus.Invalid, Parse(text, out _));
        Assert.Equal(HttpParseStatus.Invalid, Parse(text[..(HttpRequestHead.MaxHeadBytes + 10)], out _));
    }

    [Fact]
    public void TryParse_BinaryStart_InvalidAtOnce() =>
        Assert.Equal(HttpParseStatus.Invalid, HttpRequestHead.TryParse([0x00, 0x01, 0xff], out _));

    [Fact]
    public void TryParse_IPv6Literal_HostWithoutBrackets()
    {
        Assert.Equal(HttpParseStatus.Complete, Parse("GET http://[fd00::1]:8080/ HTTP/1.1\r\n\r\n", out var head));
        Assert.Equal("fd00::1", head!.Host);
        Assert.Equal(8080, head.Port);
    }
}
