using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Berth.Gateway.Tests;

/// <summary>
/// Requests with a body, end to end: the real <see cref="ContainerForwarder"/> (YARP over <see cref="DuplexHttp1Handler"/>)
/// in front of a scripted raw "container" (<see cref="RawContainer"/>). A client whose body breaks must not hold the
/// container's connection, and the container's answer is held to the same rules as on the warm path.
/// </summary>
public sealed class DuplexForwarderTests
{
    // Generous: the abort is immediate; this only turns a hang into a failure with a message.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static Task<ForwarderRig> StartAsync(RawContainer container) => ForwarderRig.StartAsync(containerPort: container.Port);

    /// <summary>A container that reads the request head, then never answers: only the gateway closing the connection ends it.</summary>
    private static (Task HeadRead, Task<bool> Closed) NeverAnswers(RawContainer container)
    {
        var headRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            Assert.NotNull(await c.ReadRequestAsync());
            headRead.SetResult();
            closed.SetResult(await c.GatewayClosesAsync(Bound));
        });
        return (headRead.Task, closed.Task);
    }

    private static async Task<TcpClient> ConnectAsync(ForwarderRig rig)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, rig.Client.BaseAddress!.Port);
        return client;
    }

    // Chunked, so Kestrel finds the failure only while the gateway streams the body: a malformed chunk size, or a
    // chunk that takes the body over /small's 1000-byte limit.
    [Theory]
    [InlineData("/p/upload", "zz\r\n", "400", "bad_request_body")]
    [InlineData("/small/upload", "7d0\r\n", "413", "body_too_large")]
    public async Task RequestBody_FailsOnClientSide_AnsweredAtOnceAndContainerConnectionAborted(string path, string next, string status, string code)
    {
        await using var container = new RawContainer();
        var (headRead, closed) = NeverAnswers(container);
        await using var rig = await StartAsync(container);
        using var client = await ConnectAsync(rig);
        var stream = client.GetStream();

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
        await headRead.WaitAsync(Bound);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(next + new string('b', 2000) + "\r\n"));
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var read = reader.ReadToEndAsync();

        Assert.True(await Task.WhenAny(read, Task.Delay(Bound)) == read,
            $"The client got no answer to its failed body within {Bound.TotalSeconds} s (the gateway waited on a container that never answers).");
        var response = await read;
        Assert.StartsWith($"HTTP/1.1 {status} ", response, StringComparison.Ordinal);
        Assert.Contains("application/json", response, StringComparison.Ordinal);
        Assert.Contains($"\"error\":\"{code}\"", response, StringComparison.Ordinal);
        Assert.True(await closed, $"The gateway kept the container's connection open for {Bound.TotalSeconds} s after the client's body failed.");
        container.AssertNoFaults();
    }

    [Theory]
    [InlineData("close")]
    [InlineData("reset")]
    [InlineData("half-close")]
    public async Task RequestBody_ClientGoesAwayMidUpload_ContainerConnectionAborted(string how)
    {
        await using var container = new RawContainer();
        var (headRead, closed) = NeverAnswers(container);
        await using var rig = await StartAsync(container);
        using var client = await ConnectAsync(rig);

        await client.GetStream().WriteAsync("POST /p/upload HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\nfirst part"u8.ToArray());
        await headRead.WaitAsync(Bound);
        switch (how)
        {
            case "reset":
                client.Client.LingerState = new LingerOption(true, 0);
                client.Client.Close();
                break;
            case "half-close":
                // The body ends short of its Content-Length while the client still listens.
                client.Client.Shutdown(SocketShutdown.Send);
                break;
            default:
                client.Client.Close();
                break;
        }

        Assert.True(await closed, $"The gateway kept the container's connection open for {Bound.TotalSeconds} s after its client's upload broke off ({how}).");
        container.AssertNoFaults();
    }

    [Theory]
    [InlineData("Connection: X-Secret, keep-alive\r\nX-Secret: 1\r\n")]
    [InlineData("X-Secret: 1\r\nconnection: x-secret\r\n")]
    [InlineData("Connection: close\r\nX-Secret: 1\r\nConnection: X-Secret, Content-Language\r\nContent-Language: de\r\n")]
    public async Task Response_HeadersNamedInConnection_Dropped(string headers)
    {
        await using var container = new RawContainer();
        container.Enqueue(async c =>
        {
            await c.AnswerAsync(RawContainer.Ok("named", headers + "X-Kept: yes\r\nContent-Type: text/plain\r\n"));
            await c.GatewayClosesAsync(Bound);
        });
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.PostAsync("/p/named", new StringContent("body"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("named", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("X-Secret"), "A header the container named in Connection was forwarded.");
        Assert.False(response.Content.Headers.Contains("Content-Language"), "A content header named in Connection was forwarded.");
        Assert.Empty(response.Headers.Connection);
        Assert.Equal(["yes"], response.Headers.GetValues("X-Kept"));
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")]
    [InlineData("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")]
    public async Task Response_TransferCodingOtherThanChunked_502UpstreamResponseHeaders(string rest)
    {
        await using var container = new RawContainer();
        container.Enqueue(async c =>
        {
            await c.AnswerAsync("HTTP/1.1 200 OK\r\nX-A: 1\r\n" + rest);
            await c.GatewayClosesAsync(Bound);
        });
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.PostAsync("/p/coded", new StringContent("body"));

        var (status, error) = await Http1ForwarderTests.ErrorOfAsync(response);
        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal("upstream_responseheaders", error);
        Assert.False(response.Headers.Contains("X-A"));
    }
}
