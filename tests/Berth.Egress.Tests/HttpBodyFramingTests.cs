using System.Text;

namespace Berth.Egress.Tests;

public sealed class HttpBodyFramingTests
{
    private static HttpBodyFraming? Framing(string headers)
    {
        Assert.Equal(HttpParseStatus.Complete, HttpRequestHead.TryParse(Encoding.ASCII.GetBytes($"POST /x HTTP/1.1\r\nHost: a.test\r\n{headers}\r\n"), out var head));
        return HttpBodyFraming.For(head!);
    }

    [Fact]
    public void Consume_ContentLength_StopsAtTheBodyEnd()
    {
        var framing = Framing("Content-Length: 5\r\n")!;
        Assert.Equal(3, framing.Consume("abc"u8));
        Assert.False(framing.IsComplete);
        Assert.Equal(2, framing.Consume("deGET / HTTP/1.1"u8));
        Assert.True(framing.IsComplete);
    }

    [Fact]
    public void Consume_NoBodyHeaders_NothingBelongsToTheRequest()
    {
        var framing = Framing("")!;
        Assert.True(framing.IsComplete);
        Assert.Equal(0, framing.Consume("GET / HTTP/1.1\r\n"u8));
    }

    [Fact]
    public void Consume_ChunkedSplitAnywhere_EndsAfterTheLastChunkAndTrailers()
    {
        var body = "4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\n";
        var after = "GET http://secret.test/ HTTP/1.1\r\n\r\n";
        var bytes = Encoding.ASCII.GetBytes(body + after);
        for (var split = 1; split < body.Length; split++)
        {
            var framing = Framing("Transfer-Encoding: chunked\r\n")!;
            var first = framing.Consume(bytes.AsSpan(0, split));
            Assert.Equal(split, first);
            var second = framing.Consume(bytes.AsSpan(split));
            Assert.Equal(body.Length - split, second);
            Assert.True(framing.IsComplete);
        }
    }

    [Theory]
    [InlineData("zz\r\n")]
    [InlineData("4\r\nWikiXX")]
    [InlineData("\r\n")]
    public void Consume_MalformedChunked_Invalid(string body) =>
        Assert.Equal(-1, Framing("Transfer-Encoding: chunked\r\n")!.Consume(Encoding.ASCII.GetBytes(body)));

    [Theory]
    [InlineData("Transfer-Encoding: gzip, chunked\r\n")]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n")]
    [InlineData("Content-Length: 3\r\nContent-Length: 4\r\n")]
    [InlineData("Content-Length: -1\r\n")]
    [InlineData("Content-Length: 1e3\r\n")]
    public void For_AmbiguousFraming_Null(string headers) => Assert.Null(Framing(headers));
}
