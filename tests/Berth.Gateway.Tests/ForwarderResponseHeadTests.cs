using System.Net;

namespace Berth.Gateway.Tests;

/// <summary>
/// One set of rules for a container's response head on both ways the gateway reads one (<c>Http1/Http1ResponseHead.cs</c>):
/// Berth's HTTP/1.1 forwarder (a GET) and the duplex handler under YARP (a POST with a body), each in front of a scripted
/// raw "container" (<see cref="RawContainer"/>) that writes the bad head byte for byte. Before the rules were shared, the
/// duplex path let most of these through or answered them as <c>upstream_request</c>.
/// </summary>
public sealed class ForwarderResponseHeadTests
{
    private static readonly TimeSpan Bound = Http1ForwarderTests.Bound;

    public static TheoryData<string, string, string> BadHeads()
    {
        var heads = new (string What, string Answer)[]
        {
            ("conflicting Content-Length", "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc"),
            ("Content-Length list", "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 3, 3\r\n\r\nabc"),
            ("Content-Length with +", "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: +3\r\n\r\nabc"),
            ("status 000", "HTTP/1.1 000 Zero\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n"),
            ("status 99", "HTTP/1.1 99 Odd\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n"),
            ("control byte in the reason", "HTTP/1.1 200 O\u0001K\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n"),
            ("101 without an upgrade asked", "HTTP/1.1 101 Switching Protocols\r\nX-A: 1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
            ("non-token header name", "HTTP/1.1 200 OK\r\nX-A: 1\r\nX(B): 2\r\nContent-Length: 0\r\n\r\n"),
            ("space before the colon", "HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B : 2\r\nContent-Length: 0\r\n\r\n"),
            ("control byte in a value", "HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: a\u0001b\r\nContent-Length: 0\r\n\r\n"),
            ("control byte in a hop-by-hop value", "HTTP/1.1 200 OK\r\nX-A: 1\r\nKeep-Alive: timeout=5\u0001\r\nContent-Length: 0\r\n\r\n"),
            ("obs-fold", "HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: a\r\n folded\r\nContent-Length: 0\r\n\r\n"),
            ("Transfer-Encoding: gzip, chunked", "HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
            ("Transfer-Encoding: chunked, gzip", "HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked, gzip\r\n\r\nhello"),
        };
        var data = new TheoryData<string, string, string>();
        foreach (var forwarder in new[] { "http1", "duplex" })
        {
            foreach (var (what, answer) in heads)
            {
                data.Add(forwarder, what, answer);
            }
        }

        return data;
    }

    /// <summary>A GET goes through Berth's HTTP/1.1 forwarder, a POST with a body through YARP and the duplex handler.</summary>
    private static Task<HttpResponseMessage> SendAsync(ForwarderRig rig, string forwarder) => forwarder == "http1"
        ? rig.Client.GetAsync("/p/head")
        : rig.Client.PostAsync("/p/head", new StringContent("body"));

    [Theory]
    [MemberData(nameof(BadHeads))]
    public async Task BadResponseHead_EitherForwarder_502UpstreamResponseHeadersAndConnectionClosed(string forwarder, string what, string answer)
    {
        await using var container = new RawContainer();
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            await c.AnswerAsync(answer);
            closed.SetResult(await c.GatewayClosesAsync(Bound));
        });
        await using var rig = await ForwarderRig.StartAsync(containerPort: container.Port);

        using var response = await SendAsync(rig, forwarder);

        var (status, error) = await Http1ForwarderTests.ErrorOfAsync(response);
        Assert.True(status == HttpStatusCode.BadGateway && error == "upstream_responseheaders",
            $"{forwarder}, {what}: answered {(int)status} {error}, not 502 upstream_responseheaders.");
        Assert.False(response.Headers.Contains("X-A"), $"{forwarder}, {what}: a header of the refused head reached the client.");
        Assert.True(await closed.Task, $"{forwarder}, {what}: the gateway kept the container's connection open.");
        container.AssertNoFaults();
    }

    [Theory]
    [InlineData("http1")]
    [InlineData("duplex")]
    public async Task ContentLengthAndChunked_EitherForwarder_ChunkedWinsLengthNotForwardedConnectionClosed(string forwarder)
    {
        await using var container = new RawContainer();
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            await c.AnswerAsync("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
            closed.SetResult(await c.GatewayClosesAsync(Bound));
        });
        await using var rig = await ForwarderRig.StartAsync(containerPort: container.Port);

        using var response = await SendAsync(rig, forwarder);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello", await response.Content.ReadAsStringAsync());
        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.False(response.Content.Headers.NonValidated.Contains("Content-Length"), $"{forwarder}: the container's Content-Length was forwarded with its chunked body.");
        // RFC 9112 §6.3: a head with both may be response splitting; its connection carries nothing more.
        Assert.True(await closed.Task, $"{forwarder}: the connection of a head with Content-Length and Transfer-Encoding was kept for another request.");
        container.AssertNoFaults();
    }

    public static TheoryData<string, string> BadChunkLines()
    {
        // A leading space, a sign, a 0x prefix, and a 5,000-byte chunk extension (over the 4 KiB chunk-line limit, in one write).
        var data = new TheoryData<string, string>();
        foreach (var forwarder in new[] { "http1", "duplex" })
        {
            foreach (var line in new[] { " 5", "+5", "0x5", "5;x=" + new string('a', 5000) })
            {
                data.Add(forwarder, line);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BadChunkLines))]
    public async Task BadChunkSizeLine_EitherForwarder_502BeforeAnyBodyByte(string forwarder, string line)
    {
        await using var container = new RawContainer();
        container.Enqueue(c => c.AnswerAsync($"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{line}\r\nhello\r\n0\r\n\r\n"));
        await using var rig = await ForwarderRig.StartAsync(containerPort: container.Port);

        using var response = await SendAsync(rig, forwarder);

        var (status, error) = await Http1ForwarderTests.ErrorOfAsync(response);
        Assert.True(status == HttpStatusCode.BadGateway && error == "upstream_responsebodydestination",
            $"{forwarder}, chunk line '{line[..Math.Min(line.Length, 12)]}' ({line.Length} bytes): answered {(int)status} {error}, not 502 upstream_responsebodydestination.");
    }

    [Fact]
    public async Task UnaskedAnswer_OnAnIdleConnection_AddressGetsNoKeptAliveConnectionAfterIt()
    {
        await using var container = new RawContainer();
        var strayWritten = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            await c.AnswerAsync(RawContainer.Ok("one"));
            // A second answer nobody asked for, while the connection sits idle in the gateway's pool.
            await c.WriteAsync(RawContainer.Ok("STRAY"));
            strayWritten.SetResult();
            await c.ServeAsync(head => RawContainer.Ok("late " + RawConnection.TargetOf(head)));
        });
        await using var rig = await ForwarderRig.StartAsync(containerPort: container.Port);

        Assert.Equal("one", await rig.Client.GetStringAsync("/p/a"));
        await strayWritten.Task.WaitAsync(Bound);
        var second = await rig.Client.GetStringAsync("/p/b");
        var third = await rig.Client.GetStringAsync("/p/c");

        Assert.DoesNotContain("STRAY", second, StringComparison.Ordinal);
        Assert.StartsWith("conn2 ", second, StringComparison.Ordinal);
        // Before, the second request's new connection was kept alive and the third took it: a container that answers
        // unasked can keep each later answer one behind on it, so after one the address gets no kept-alive connection.
        Assert.StartsWith("conn3 ", third, StringComparison.Ordinal);
        Assert.Equal(3, container.Accepted);
        container.AssertNoFaults();
    }

    [Fact]
    public async Task UnaskedAnswer_InTheSameWriteAsTheResponse_AddressGetsNoKeptAliveConnectionAfterIt()
    {
        await using var container = new RawContainer();
        container.Enqueue(c => c.AnswerAsync(RawContainer.Ok("one") + RawContainer.Ok("TWO")));
        await using var rig = await ForwarderRig.StartAsync(containerPort: container.Port);

        Assert.Equal("one", await rig.Client.GetStringAsync("/p/a"));
        var second = await rig.Client.GetStringAsync("/p/b");
        var third = await rig.Client.GetStringAsync("/p/c");

        Assert.StartsWith("conn2 ", second, StringComparison.Ordinal);
        Assert.StartsWith("conn3 ", third, StringComparison.Ordinal);
        Assert.Equal(3, container.Accepted);
    }

    [Fact]
    public async Task RequestTimeoutBeforeAnIdleClose_IsNotAnUnaskedAnswer_KeptAliveConnectionsStay()
    {
        await using var container = new RawContainer();
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            await c.AnswerAsync(RawContainer.Ok("one"));
            // RFC 9110 §15.5.9: a server may say 408 before it closes an idle connection.
            await c.WriteAsync("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
            closed.SetResult();
        });
        await using var rig = await ForwarderRig.StartAsync(containerPort: container.Port);

        Assert.Equal("one", await rig.Client.GetStringAsync("/p/a"));
        await closed.Task.WaitAsync(Bound);
        Assert.StartsWith("conn2 ", await rig.Client.GetStringAsync("/p/b"), StringComparison.Ordinal);
        Assert.StartsWith("conn2 ", await rig.Client.GetStringAsync("/p/c"), StringComparison.Ordinal);
        Assert.Equal(2, container.Accepted);
    }

    [Fact]
    public async Task RequestTimeoutThatKeepsTheConnection_OnAnIdleConnection_CountsAsUnasked()
    {
        await using var container = new RawContainer();
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            await c.AnswerAsync(RawContainer.Ok("one"));
            await Task.Delay(200); // after the gateway read "one", so the 408 lands on the idle connection
            await c.WriteAsync("HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n");
            written.SetResult();
            await c.ServeAsync(head => RawContainer.Ok("late " + RawConnection.TargetOf(head)));
        });
        await using var rig = await ForwarderRig.StartAsync(containerPort: container.Port);

        Assert.Equal("one", await rig.Client.GetStringAsync("/p/a"));
        await written.Task.WaitAsync(Bound);
        Assert.StartsWith("conn2 ", await rig.Client.GetStringAsync("/p/b"), StringComparison.Ordinal);
        Assert.StartsWith("conn3 ", await rig.Client.GetStringAsync("/p/c"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnaskedAnswer_AddressUnusedLongerThanTheIdleTimeout_QuarantineStillHolds()
    {
        await using var container = new RawContainer();
        container.Enqueue(c => c.AnswerAsync(RawContainer.Ok("one") + RawContainer.Ok("TWO")));
        await using var rig = await ForwarderRig.StartAsync(o => o.PooledConnectionIdleTimeout = TimeSpan.FromSeconds(1), containerPort: container.Port);

        Assert.Equal("one", await rig.Client.GetStringAsync("/p/a"));
        // The pool's sweep (every second here) forgets an address unused for the idle timeout; a quarantined one must stay.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.StartsWith("conn2 ", await rig.Client.GetStringAsync("/p/b"), StringComparison.Ordinal);
        Assert.StartsWith("conn3 ", await rig.Client.GetStringAsync("/p/c"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnaskedAnswer_ThenANewContainerAtTheSameAddress_NewOneIsNotQuarantined()
    {
        await using var container = new RawContainer();
        container.Enqueue(c => c.AnswerAsync(RawContainer.Ok("one") + RawContainer.Ok("TWO")));
        await using var rig = await ForwarderRig.StartAsync(containerPort: container.Port);
        Assert.Equal("one", await rig.Client.GetStringAsync("/p/a"));
        Assert.StartsWith("conn2 ", await rig.Client.GetStringAsync("/p/b"), StringComparison.Ordinal);

        // The misbehaving container stopped and the engine gave its address to another (another tenant's, perhaps).
        rig.Object.ReplaceAtTheSameAddress("successor");

        Assert.StartsWith("conn3 ", await rig.Client.GetStringAsync("/p/c"), StringComparison.Ordinal);
        Assert.StartsWith("conn3 ", await rig.Client.GetStringAsync("/p/d"), StringComparison.Ordinal);
        Assert.Equal(3, container.Accepted);
    }

    /// <summary>A rig whose requests time out after 1 s idle, and upgraded connections after a day.</summary>
    private static Task<ForwarderRig> StartWithShortRequestTimeoutAsync(RawContainer container) =>
        ForwarderRig.StartAsync(
            o =>
            {
                o.RequestActivityTimeout = TimeSpan.FromSeconds(1);
                o.UpgradedActivityTimeout = TimeSpan.FromHours(24);
            },
            containerPort: container.Port);

    [Theory]
    [InlineData("websocket")]
    [InlineData("h2c")]
    [InlineData("foo")]
    [InlineData(null)]
    public async Task UpgradeRequest_ContainerNeverAnswers_504AtTheRequestActivityTimeoutNotTheUpgradedOne(string? upgradeTo)
    {
        await using var container = new RawContainer();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            Assert.NotNull(await c.ReadRequestAsync());
            await release.Task.WaitAsync(Bound);
        });
        await using var rig = await StartWithShortRequestTimeoutAsync(container);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/p/ws");
        request.Headers.Connection.Add("Upgrade");
        if (upgradeTo is not null)
        {
            request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue(upgradeTo));
        }

        // Before, the wait for the answer was bounded only by the upgraded connection's 24 h: for a WebSocket upgrade, and
        // for any request with Connection: upgrade (YARP forwards those as plain requests, still with the 24 h bound).
        using var response = await rig.Client.SendAsync(request).WaitAsync(Bound);
        release.SetResult();

        var (status, error) = await Http1ForwarderTests.ErrorOfAsync(response);
        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        Assert.Equal("upstream_requesttimedout", error);
    }

    [Theory]
    [InlineData("DELETE")]
    [InlineData("OPTIONS")]
    [InlineData("PUT")]
    [InlineData("HEAD")]
    [InlineData("POST")]
    public async Task UpgradeRequest_NotAGet_ForwardedAsThePlainRequestItIs(string method)
    {
        await using var container = new RawContainer();
        var head = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            head.SetResult(await c.ReadRequestAsync());
            await c.WriteAsync("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        });
        await using var rig = await StartWithShortRequestTimeoutAsync(container);
        using var request = new HttpRequestMessage(new HttpMethod(method), "/p/ws");
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("websocket"));
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");

        // Before, YARP sent any method with WebSocket upgrade headers as a handshake, which is a GET (RFC 6455 §4.1): a DELETE
        // or an OPTIONS reached the container as a GET (hostile trial). Another method's Upgrade is ignored (RFC 9110 §7.8).
        using var response = await rig.Client.SendAsync(request).WaitAsync(Bound);
        var sent = await head.Task.WaitAsync(Bound);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.NotNull(sent);
        Assert.StartsWith(method + " /", sent, StringComparison.Ordinal);
        Assert.DoesNotContain("\nUpgrade:", sent, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\nConnection: Upgrade", sent, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task UpgradeRequest_Answered101_StaysOpenIdleLongerThanTheRequestActivityTimeout()
    {
        await using var container = new RawContainer();
        container.Enqueue(async c =>
        {
            Assert.NotNull(await c.ReadRequestAsync());
            await c.WriteAsync("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
            // Idle for more than the 1 s that bounds the wait for the answer: the upgraded connection's own timeout applies now.
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            await c.WriteAsync("late frame");
        });
        await using var rig = await StartWithShortRequestTimeoutAsync(container);
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, rig.Client.BaseAddress!.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            "GET /p/ws HTTP/1.1\r\nHost: gateway\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"));

        var received = new System.Text.StringBuilder();
        var buffer = new byte[4096];
        using var bound = new CancellationTokenSource(Bound);
        while (!received.ToString().Contains("late frame", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, bound.Token);
            Assert.True(read > 0, $"The gateway closed the upgraded connection; it had sent: {received}");
            received.Append(System.Text.Encoding.Latin1.GetString(buffer, 0, read));
        }

        Assert.StartsWith("HTTP/1.1 101", received.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("websocket")]
    [InlineData(null)]
    public async Task UpgradeRequest_AnsweredNot101ThenSilent_BodyAbortedAtTheRequestActivityTimeoutLikeAPlainRequest(string? upgradeTo)
    {
        await using var container = new RawContainer();
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            Assert.NotNull(await c.ReadRequestAsync());
            // A refused upgrade (or, for the plain request, any answer), one chunk of its body, then nothing.
            await c.WriteAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
            // Longer than the client's bound: this script's end closes the connection, which would end the response.
            closed.SetResult(await c.GatewayClosesAsync(2 * Bound));
        });
        await using var rig = await StartWithShortRequestTimeoutAsync(container);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/p/ws");
        if (upgradeTo is not null)
        {
            request.Headers.Connection.Add("Upgrade");
            request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue(upgradeTo));
        }

        using var response = await rig.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Bound);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Before, a refused upgrade's body was bounded only by the upgraded connection's 24 h idle time.
        Assert.Equal("hello", await ReadUntilAbortedAsync(response, Bound));
        Assert.True(await closed.Task, "The gateway kept the connection of a container whose answer stalled.");
    }

    /// <summary>
    /// Reads a response body that must break off (an <see cref="IOException"/>) within <paramref name="bound"/>, and returns
    /// what arrived before; fails when it is still open at the bound or ends as if whole.
    /// </summary>
    internal static async Task<string> ReadUntilAbortedAsync(HttpResponseMessage response, TimeSpan bound)
    {
        var stream = await response.Content.ReadAsStreamAsync();
        var received = new System.Text.StringBuilder();
        var buffer = new byte[1024];
        Exception? failure = null;
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Append(System.Text.Encoding.Latin1.GetString(buffer, 0, read));
            }
        }
        catch (IOException ex)
        {
            failure = ex;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // Still open at the bound: reported below.
        }

        Assert.False(timeout.IsCancellationRequested, $"The response was still open after {bound.TotalSeconds} s; it had sent: {received}");
        Assert.True(failure is not null, $"The stalled response ended as if whole: {received}");
        return received.ToString();
    }

    [Fact]
    public void Parse_WarmHead_AllocatesNothing()
    {
        // Exact, not timed: the bytes this thread allocated parsing the micro-benchmark's answer head 100 times.
        var head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\nDate: Tue, 01 Dec 2026 04:00:00 GMT\r\nServer: Kestrel\r\n\r\n"u8.ToArray();
        var sink = new CountingSink();
        Http1.Http1ResponseHead.Parse(head, headRequest: false, connectionLine: false, ref sink);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            Http1.Http1ResponseHead.Parse(head, headRequest: false, connectionLine: false, ref sink);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"Parsing a warm response head 100 times allocated {allocated} bytes.");
        Assert.Equal(303, sink.Count);
    }

    private struct CountingSink : Http1.IResponseHeaderSink
    {
        public int Count;

        public void Add(string name, ReadOnlySpan<byte> value) => Count++;
    }
}
