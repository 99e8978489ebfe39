using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Berth.Gateway.Tests;

/// <summary>
/// A request whose framing is ambiguous: both <c>Content-Length</c> and <c>Transfer-Encoding: chunked</c> (RFC 9112 §6.3,
/// the classic request-smuggling shape). Kestrel 10 frames it by the chunks, closes the connection after the response, and
/// hands the app the length as a made-up <c>X-Content-Length</c> header; the gateway answers it itself and forwards nothing.
/// Raw sockets: no HTTP client sends both.
/// </summary>
public sealed class RequestFramingTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>Sends <paramref name="request"/> as is and reads until the gateway closes the connection.</summary>
    private static async Task<string> ExchangeAsync(ForwarderRig rig, string request)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, rig.Client.BaseAddress!.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var read = reader.ReadToEndAsync();
        Assert.True(await Task.WhenAny(read, Task.Delay(Bound)) == read,
            $"The gateway did not answer and close the connection within {Bound.TotalSeconds} s.");
        return await read;
    }

    [Theory]
    [InlineData("POST", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")]
    [InlineData("POST", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")]
    [InlineData("PUT", "Content-Length: 0\r\nTransfer-Encoding: Chunked\r\n")]
    [InlineData("GET", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")]
    [InlineData("POST", "Content-Length: 5\r\nTransfer-Encoding: gzip, chunked\r\n")]
    public async Task Request_ContentLengthAndChunked_400BadRequestFramingAndNothingForwarded(string method, string framing)
    {
        await using var rig = await ForwarderRig.StartAsync();

        // The smuggling shape: a front end framing by the length would take the rest as a second request to the container.
        var response = await ExchangeAsync(rig,
            $"{method} /p/framed HTTP/1.1\r\nHost: h\r\n{framing}\r\n5\r\nhello\r\n0\r\n\r\nGET /p/smuggled HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("\"error\":\"bad_request_framing\"", response, StringComparison.Ordinal);
        Assert.Contains("\r\nConnection: close\r\n", response, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("HTTP/1.1 200", response, StringComparison.Ordinal);
        Assert.Empty(rig.Probe.Targets);
    }

    [Fact]
    public async Task Request_ContentLengthAndChunkedAndClientXContentLength_NothingForwarded()
    {
        await using var rig = await ForwarderRig.StartAsync();

        // Kestrel's rename meets the client's own X-Content-Length: Kestrel 10's Add of the renamed header fails on the
        // duplicate and it closes the connection without an answer, before the app runs. Either way the container sees nothing.
        var response = await ExchangeAsync(rig,
            "POST /p/framed HTTP/1.1\r\nHost: h\r\nX-Content-Length: 7\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");

        Assert.DoesNotContain("HTTP/1.1 2", response, StringComparison.Ordinal);
        Assert.Empty(rig.Probe.Targets);
    }

    [Fact]
    public async Task Request_ChunkedWithClientXContentLength_400BadRequestFraming()
    {
        await using var rig = await ForwarderRig.StartAsync();

        // Kestrel leaves the app no way to tell this from its own rename of a Content-Length: refused alike (docs/errors.md).
        var response = await ExchangeAsync(rig,
            "POST /p/framed HTTP/1.1\r\nHost: h\r\nX-Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("\"error\":\"bad_request_framing\"", response, StringComparison.Ordinal);
        Assert.Empty(rig.Probe.Targets);
    }

    [Theory]
    [InlineData("POST", "Content-Length: 5\r\n", "5")]
    [InlineData("GET", "", "")]
    public async Task Request_ClientXContentLengthWithoutChunked_ForwardedAsSent(string method, string framing, string body)
    {
        await using var rig = await ForwarderRig.StartAsync();

        var response = await ExchangeAsync(rig,
            $"{method} /p/own HTTP/1.1\r\nHost: h\r\nX-Content-Length: 12345\r\n{framing}Connection: close\r\n\r\n{(body.Length > 0 ? "hello" : "")}");

        Assert.StartsWith("HTTP/1.1 200 ", response, StringComparison.Ordinal);
        Assert.Contains("\nX-Content-Length: 12345\n", response, StringComparison.OrdinalIgnoreCase);
        Assert.Single(rig.Probe.Targets);
    }
}
