using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Berth.Gateway.Tests;

/// <summary>
/// The warm data plane (<c>Http1/Http1Forwarder.cs</c>): the real <see cref="ContainerForwarder"/> on Kestrel in front of
/// a scripted raw "container" (<see cref="RawContainer"/>), which writes exactly the bytes a sloppy or hostile app would.
/// The container and the client are both untrusted: every malformed answer must end as a clean error and a connection
/// that never serves another request.
/// </summary>
public sealed class Http1ForwarderTests
{
    internal static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static Task<ForwarderRig> StartAsync(RawContainer container, Action<GatewayOptions>? options = null) =>
        ForwarderRig.StartAsync(options, containerPort: container.Port);

    internal static async Task<(HttpStatusCode Status, string Error)> ErrorOfAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(text);
        return (response.StatusCode, body.RootElement.GetProperty("error").GetString()!);
    }

    private static int IdleConnections(ForwarderRig rig) => rig.Forwarder.Http1Forwarder!.IdleConnections;

    /// <summary>Waits (bounded) for a script to end, so a test goes on only once the container did what it scripted.</summary>
    private static async Task EndedAsync(Task script, string what)
    {
        var done = await Task.WhenAny(script, Task.Delay(Bound));
        Assert.True(done == script, $"The container script did not end within {Bound.TotalSeconds} s: {what}.");
        await script;
    }

    /// <summary>Sends raw bytes to the gateway (<c>Connection: close</c> is added) and returns the container's view of it.</summary>
    private static async Task<string> SendRawAsync(ForwarderRig rig, RawContainer container, string requestWithoutEnd)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, rig.Client.BaseAddress!.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(requestWithoutEnd + "Connection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var response = await reader.ReadToEndAsync().WaitAsync(Bound);
        Assert.StartsWith("HTTP/1.1 200 ", response, StringComparison.Ordinal);
        return container.Requests.Last();
    }

    /// <summary>The header lines of a request head as (name, value) pairs, in order, each line as sent.</summary>
    private static List<(string Name, string Value)> HeadersOf(string head) =>
        head.Split("\r\n").Skip(1).Where(l => l.Length > 0)
            .Select(l => (l[..l.IndexOf(':', StringComparison.Ordinal)], l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()))
            .ToList();

    private static string[] ValuesOf(List<(string Name, string Value)> headers, string name) =>
        headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToArray();

    // ---- The request head the container gets ----

    [Fact]
    public async Task RequestHead_ClientSentForwardedHeaders_ReplacedNotAppendedAndHostIsContainer()
    {
        await using var container = new RawContainer();
        await using var rig = await StartAsync(container);

        var head = await SendRawAsync(rig, container,
            "GET /p/a%2Fb/c?x=%2F&y=1 HTTP/1.1\r\nHost: client.example:8443\r\nX-Forwarded-For: 6.6.6.6\r\n"
            + "X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Prefix: /evil\r\nx-forwarded-for: 7.7.7.7\r\n");

        var headers = HeadersOf(head);
        Assert.Equal("GET /a%2Fb/c?x=%2F&y=1 HTTP/1.1", head.Split("\r\n")[0]);
        Assert.Equal([$"127.0.0.1:{container.Port}"], ValuesOf(headers, "Host"));
        Assert.Equal(["127.0.0.1"], ValuesOf(headers, "X-Forwarded-For"));
        Assert.Equal(["http"], ValuesOf(headers, "X-Forwarded-Proto"));
        Assert.Equal(["client.example:8443"], ValuesOf(headers, "X-Forwarded-Host"));
        Assert.Equal(["/p"], ValuesOf(headers, "X-Forwarded-Prefix"));
        container.AssertNoFaults();
    }

    [Fact]
    public async Task RequestHead_BerthHeadersAnyCaseOrUnderscores_DroppedOthersKept()
    {
        await using var container = new RawContainer();
        await using var rig = await StartAsync(container);

        var head = await SendRawAsync(rig, container,
            "GET /p/x HTTP/1.1\r\nHost: h\r\nX-Berth-Container-Port: 1\r\nx-berth-object-id: other\r\nX_Berth_Secret: s\r\n"
            + "X-BERTH-NODE-HOP: forged\r\nx_berth-mixed: m\r\nX-Berthy: kept\r\nX-Other: kept\r\n");

        var names = HeadersOf(head).Select(h => h.Name).ToList();
        Assert.DoesNotContain(names, n => n.Replace('_', '-').StartsWith("X-Berth-", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("X-Berthy", names);
        Assert.Contains("X-Other", names);
        Assert.Equal("/x", RawConnection.TargetOf(head));
    }

    [Fact]
    public async Task RequestHead_HopByHopAndHeadersNamedInConnection_Dropped()
    {
        await using var container = new RawContainer();
        await using var rig = await StartAsync(container);

        var head = await SendRawAsync(rig, container,
            "GET /p/hop HTTP/1.1\r\nHost: h\r\nConnection: X-Named-One, keep-alive\r\nconnection: x-named-two\r\n"
            + "X-Named-One: 1\r\nX-NAMED-TWO: 2\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: websocket\r\n"
            + "Proxy-Authorization: Basic eDp5\r\nProxy-Connection: keep-alive\r\nProxy-Features: x\r\nExpect: 100-continue-ish\r\nX-Kept: yes\r\n");

        var names = HeadersOf(head).Select(h => h.Name.ToUpperInvariant()).ToList();
        foreach (var dropped in new[] { "CONNECTION", "X-NAMED-ONE", "X-NAMED-TWO", "KEEP-ALIVE", "TE", "UPGRADE", "PROXY-AUTHORIZATION", "PROXY-CONNECTION", "PROXY-FEATURES", "EXPECT" })
        {
            Assert.DoesNotContain(dropped, names);
        }

        Assert.Equal(["yes"], ValuesOf(HeadersOf(head), "X-Kept"));
    }

    // Not "Connection: X-Drop-Me" followed by "Connection: close" (SendRawAsync adds the second line): Kestrel 10 then keeps
    // only "close" as the Connection header, so the first line's name never reaches the gateway (found by the new-user
    // trial, 2026-12-01; the header is forwarded in that case).
    [Theory]
    [InlineData("Connection: keep-alive, X-Drop-Me\r\n")]
    [InlineData("Connection: X-Drop-Me, keep-alive\r\n")]
    public async Task RequestHead_HeaderNamedInOneConnectionLineWithKeepAlive_Dropped(string connection)
    {
        await using var container = new RawContainer();
        await using var rig = await StartAsync(container);

        var head = await SendRawAsync(rig, container, "GET /p/hop HTTP/1.1\r\nHost: h\r\n" + connection + "X-Drop-Me: y\r\nX-Kept: yes\r\n");

        Assert.Empty(ValuesOf(HeadersOf(head), "X-Drop-Me"));
        Assert.Equal(["yes"], ValuesOf(HeadersOf(head), "X-Kept"));
    }

    [Fact]
    public async Task RequestHead_NonAsciiHeaderValue_ContainerGetsTheClientsUtf8Bytes()
    {
        await using var container = new RawContainer();
        await using var rig = await StartAsync(container);

        // "café" as the client's UTF-8 bytes (c3 a9), written through the Latin-1 helper byte for byte.
        var head = await SendRawAsync(rig, container, "GET /p/utf HTTP/1.1\r\nHost: h\r\nX-Utf: caf\u00c3\u00a9\r\n");

        Assert.Equal(["caf\u00c3\u00a9"], ValuesOf(HeadersOf(head), "X-Utf"));
    }

    [Fact]
    public async Task RequestHead_RepeatedHeaders_CookieJoinedWithSemicolonOthersWithComma()
    {
        await using var container = new RawContainer();
        await using var rig = await StartAsync(container);

        var head = await SendRawAsync(rig, container,
            "GET /p/c HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nAccept: text/a\r\nCookie: b=2; c=3\r\nAccept: text/b\r\n");

        var headers = HeadersOf(head);
        Assert.Equal(["a=1; b=2; c=3"], ValuesOf(headers, "Cookie"));
        Assert.Equal(["text/a, text/b"], ValuesOf(headers, "Accept"));
    }

    [Theory]
    [InlineData("/p/a%2Fb", "/a%2Fb")]
    [InlineData("/p/x/a%2fb?q=%2F%20&r", "/x/a%2fb?q=%2F%20&r")]
    [InlineData("/p/plain?x=1&y=a+b", "/plain?x=1&y=a+b")]
    [InlineData("/p", "/")]
    public async Task RequestHead_Target_RawEscapedPathWithoutPrefixAndQueryKept(string sent, string expected)
    {
        await using var container = new RawContainer();
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.GetAsync(new Uri(sent, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("conn1 " + expected, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    [InlineData("DELETE")]
    [InlineData("OPTIONS")]
    public async Task RequestHead_MethodWithoutBody_SentOnPooledConnectionWithoutBodyHeaders(string method)
    {
        await using var container = new RawContainer();
        container.Fallback = c => c.ServeAsync(_ => "HTTP/1.1 204 No Content\r\n\r\n");
        await using var rig = await StartAsync(container);

        using var first = await rig.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/p/m"));
        using var second = await rig.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/p/m"));

        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, second.StatusCode);
        var head = container.Requests.First();
        Assert.StartsWith(method + " /m HTTP/1.1\r\n", head, StringComparison.Ordinal);
        Assert.Empty(ValuesOf(HeadersOf(head), "Transfer-Encoding"));
        Assert.Equal(1, container.Accepted);
        Assert.Equal(1, IdleConnections(rig));
    }

    // ---- Keep-alive ----

    [Fact]
    public async Task KeepAlive_SequentialRequests_ReuseOneContainerConnection()
    {
        await using var container = new RawContainer();
        await using var rig = await StartAsync(container);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal($"conn1 /k{i}", await rig.Client.GetStringAsync($"/p/k{i}"));
        }

        Assert.Equal(1, container.Accepted);
        Assert.Equal(1, IdleConnections(rig));
    }

    [Fact]
    public async Task KeepAlive_ConcurrentRequests_EachGetsItsOwnAnswerAndEveryConnectionReturns()
    {
        await using var container = new RawContainer();
        await using var rig = await StartAsync(container);
        // Several clients, so the gateway sees the requests at once rather than queued on one client connection.
        var clients = Enumerable.Range(0, 8).Select(_ => new HttpClient { BaseAddress = rig.Client.BaseAddress }).ToList();
        try
        {
            for (var round = 0; round < 5; round++)
            {
                var answers = await Task.WhenAll(clients.Select((client, i) => client.GetStringAsync($"/p/r{round}/c{i}")));

                for (var i = 0; i < clients.Count; i++)
                {
                    Assert.EndsWith($" /r{round}/c{i}", answers[i], StringComparison.Ordinal);
                }
            }

            Assert.InRange(container.Accepted, 1, clients.Count);
            Assert.Equal(container.Accepted, IdleConnections(rig));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KeepAlive_ContainerClosesIdleConnection_NextRequestSucceedsOnNewConnection(bool reset)
    {
        await using var container = new RawContainer();
        var first = container.Enqueue(async c =>
        {
            await c.AnswerAsync(RawContainer.Ok("first"));
            if (reset)
            {
                // A reset rather than a FIN: the gateway's next send on the pooled socket fails at once (ECONNRESET).
                c.Reset();
            }
            else
            {
                c.Close();
            }
        });
        await using var rig = await StartAsync(container);

        Assert.Equal("first", await rig.Client.GetStringAsync("/p/one"));
        await EndedAsync(first.Ended, "answer, then close the kept-alive connection");
        // The FIN or RST crosses loopback at once; this only keeps the test from outrunning the kernel.
        await Task.Delay(100);
        using var response = await rig.Client.GetAsync("/p/two");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("conn2 /two", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, container.Accepted);
        Assert.Equal(0, rig.Object.AliveChecks);
    }

    [Fact]
    public async Task KeepAlive_IdleLongerThanActivityTimeout_PooledConnectionStillServes()
    {
        await using var container = new RawContainer();
        await using var rig = await StartAsync(container, o => o.RequestActivityTimeout = TimeSpan.FromSeconds(1));

        Assert.Equal("conn1 /a", await rig.Client.GetStringAsync("/p/a"));
        // Longer than the activity timeout armed for the first request: its timer must not fire on the idle connection.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        using var response = await rig.Client.GetAsync("/p/b");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("conn1 /b", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, container.Accepted);
    }

    [Fact]
    public async Task KeepAlive_ConnectionCloseResponse_ConnectionClosedNotReused()
    {
        await using var container = new RawContainer();
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            await c.AnswerAsync(RawContainer.Ok("bye", "Connection: close\r\n"));
            closed.SetResult(await c.GatewayClosesAsync(Bound));
        });
        await using var rig = await StartAsync(container);

        Assert.Equal("bye", await rig.Client.GetStringAsync("/p/one"));
        Assert.Equal("conn2 /two", await rig.Client.GetStringAsync("/p/two"));

        Assert.True(await closed.Task, "The gateway kept a connection the container said it would close.");
        Assert.Equal(2, container.Accepted);
        Assert.Equal(1, IdleConnections(rig));
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("Connection: keep-alive\r\n", true)]
    [InlineData("Connection: Keep-Alive, close\r\n", false)]
    public async Task KeepAlive_Http10Response_ReusedOnlyWithKeepAlive(string connection, bool reused)
    {
        await using var container = new RawContainer();
        container.Fallback = c => c.ServeAsync(head => $"HTTP/1.0 200 OK\r\n{connection}Content-Length: 2\r\n\r\nok");
        await using var rig = await StartAsync(container);

        Assert.Equal("ok", await rig.Client.GetStringAsync("/p/one"));
        Assert.Equal("ok", await rig.Client.GetStringAsync("/p/two"));

        Assert.Equal(reused ? 1 : 2, container.Accepted);
    }

    // ---- The container's response ----

    [Fact]
    public async Task Response_ContentLengthBodyLargerThanBuffer_ForwardedWholeAndConnectionReused()
    {
        await using var container = new RawContainer();
        var body = string.Concat(Enumerable.Range(0, 6000).Select(i => (i % 10).ToString(System.Globalization.CultureInfo.InvariantCulture) + "abcdefghi"));
        container.Enqueue(async c =>
        {
            Assert.NotNull(await c.ReadRequestAsync());
            await c.WriteAsync($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body[..1000]}");
            await Task.Delay(20);
            await c.WriteAsync(body[1000..]);
            await c.ServeAsync(h => RawContainer.Ok("again"));
        });
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.GetAsync("/p/big");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.Equal(body, text);
        Assert.Equal("again", await rig.Client.GetStringAsync("/p/next"));
        Assert.Equal(1, container.Accepted);
    }

    [Fact]
    public async Task Response_ChunkedInPiecesWithExtensionsAndTrailers_DecodedRechunkedAndConnectionReused()
    {
        await using var container = new RawContainer();
        var big = new string('z', 40_000);
        container.Enqueue(async c =>
        {
            Assert.NotNull(await c.ReadRequestAsync());
            string[] pieces =
            [
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\nX-Kept: yes\r\n\r\n",
                "5;ext=\"a b\"\r\nhello\r\n",
                "1",                                 // a chunk-size line split across reads
                "0;n=v ; m\r\n, chunked ",
                "world!\r\n",
                $"{big.Length:x}\r\n{big[..20_000]}",    // one chunk spread over reads and larger than the buffer
                $"{big[20_000..]}\r\n",
                "0\r\nX-Sum: abc\r\n",
                "\r\n",
            ];
            foreach (var piece in pieces)
            {
                await c.WriteAsync(piece);
                await Task.Delay(10);
            }

            await c.ServeAsync(h => RawContainer.Ok("again"));
        });
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.GetAsync("/p/chunked");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello, chunked world!" + big, text);
        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.False(response.Content.Headers.NonValidated.Contains("Content-Length"));
        Assert.Equal(["yes"], response.Headers.GetValues("X-Kept"));
        Assert.False(response.Headers.Contains("X-Sum"));
        Assert.Empty(response.TrailingHeaders);
        Assert.Equal("again", await rig.Client.GetStringAsync("/p/next"));
        Assert.Equal(1, container.Accepted);
    }

    [Fact]
    public async Task Response_ChunkedAndContentLength_ChunkedWinsLengthNotForwarded()
    {
        await using var container = new RawContainer();
        container.Enqueue(c => c.AnswerAsync("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.GetAsync("/p/both");

        Assert.Equal("hello", await response.Content.ReadAsStringAsync());
        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.False(response.Content.Headers.NonValidated.Contains("Content-Length"));
    }

    [Fact]
    public async Task Response_BodyUntilClose_ForwardedWholeAndConnectionNotReused()
    {
        await using var container = new RawContainer();
        container.Enqueue(async c =>
        {
            Assert.NotNull(await c.ReadRequestAsync());
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ");
            await Task.Delay(20);
            await c.WriteAsync("the end");
            c.Close();
        });
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.GetAsync("/p/eof");

        Assert.Equal("until the end", await response.Content.ReadAsStringAsync());
        Assert.Equal("conn2 /next", await rig.Client.GetStringAsync("/p/next"));
        Assert.Equal(2, container.Accepted);
    }

    [Fact]
    public async Task Response_HeadWithContentLength_LengthKeptNoBodyAndConnectionReused()
    {
        await using var container = new RawContainer();
        container.Fallback = c => c.ServeAsync(head => head.StartsWith("HEAD ", StringComparison.Ordinal)
            ? "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1234\r\n\r\n"
            : RawContainer.Ok("get"));
        await using var rig = await StartAsync(container);

        using var head = await rig.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/p/h"));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(1234, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal("get", await rig.Client.GetStringAsync("/p/g"));
        Assert.Equal(1, container.Accepted);
    }

    [Theory]
    [InlineData("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n", HttpStatusCode.NoContent)]
    [InlineData("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nX-A: 1\r\n\r\n", HttpStatusCode.NotModified)]
    [InlineData("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nX-A: 1\r\nContent-Length: 50\r\n\r\n", HttpStatusCode.NotModified)]
    public async Task Response_NoContentOrNotModified_NoBodyAndConnectionReused(string answer, HttpStatusCode status)
    {
        await using var container = new RawContainer();
        container.Enqueue(async c =>
        {
            await c.AnswerAsync(answer);
            await c.ServeAsync(h => RawContainer.Ok("again"));
        });
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.GetAsync("/p/nc");

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(["1"], response.Headers.GetValues("X-A"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("again", await rig.Client.GetStringAsync("/p/next"));
        Assert.Equal(1, container.Accepted);
    }

    [Theory]
    [InlineData("Content-Length: 5\r\n\r\nhello", false)]
    [InlineData("Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false)]
    [InlineData("Content-Length: 0\r\n\r\n", true)]
    public async Task Response_ResetContentWithOrWithoutBody_205WithoutContentAndBodyNotServedLater(string rest, bool reused)
    {
        await using var container = new RawContainer();
        container.Enqueue(async c =>
        {
            await c.AnswerAsync("HTTP/1.1 205 Reset Content\r\nX-A: 1\r\n" + rest);
            await c.ServeAsync(h => RawContainer.Ok("conn1 again"));
        });
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.GetAsync("/p/reset");

        Assert.Equal(HttpStatusCode.ResetContent, response.StatusCode);
        Assert.Equal(["1"], response.Headers.GetValues("X-A"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(reused ? "conn1 again" : "conn2 /next", await rig.Client.GetStringAsync("/p/next"));
        Assert.Equal(reused ? 1 : 2, container.Accepted);
    }

    [Fact]
    public async Task Response_InterimAnswersBeforeFinal_SkippedFinalForwarded()
    {
        await using var container = new RawContainer();
        container.Enqueue(async c =>
        {
            await c.AnswerAsync("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n");
            await Task.Delay(10);
            await c.WriteAsync("HTTP/1.1 102 Processing\r\n\r\n" + RawContainer.Ok("final"));
            await c.ServeAsync(h => RawContainer.Ok("again"));
        });
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.GetAsync("/p/interim");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("final", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("Link"));
        Assert.Equal("again", await rig.Client.GetStringAsync("/p/next"));
        Assert.Equal(1, container.Accepted);
    }

    [Fact]
    public async Task Response_SeveralSetCookies_AllKeptSeparately()
    {
        await using var container = new RawContainer();
        container.Enqueue(c => c.AnswerAsync(RawContainer.Ok("c", "Set-Cookie: a=1; Path=/; HttpOnly\r\nset-cookie: b=2, c=3\r\nSet-Cookie: d=4\r\n")));
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.GetAsync("/p/cookies");

        Assert.Equal(["a=1; Path=/; HttpOnly", "b=2, c=3", "d=4"], response.Headers.GetValues("Set-Cookie"));
    }

    [Fact]
    public async Task Response_HopByHopHeaders_DroppedOthersKept()
    {
        await using var container = new RawContainer();
        container.Enqueue(c => c.AnswerAsync(RawContainer.Ok("h",
            "Keep-Alive: timeout=5, max=100\r\nConnection: keep-alive\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\n"
            + "Proxy-Authenticate: Basic\r\nAlt-Svc: h2=\":443\"\r\nTE: trailers\r\nX-Kept: yes\r\n")));
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.GetAsync("/p/hop");

        Assert.Equal("h", await response.Content.ReadAsStringAsync());
        foreach (var name in new[] { "Keep-Alive", "Proxy-Connection", "Upgrade", "Proxy-Authenticate", "Alt-Svc", "TE" })
        {
            Assert.False(response.Headers.Contains(name), name + " was forwarded.");
        }

        Assert.Empty(response.Headers.Connection);
        Assert.Equal(["yes"], response.Headers.GetValues("X-Kept"));
    }

    // RFC 9110 §7.6.1: the headers a Connection header names are for this hop only; close and keep-alive keep their meaning.
    [Theory]
    [InlineData("Connection: X-Secret, keep-alive\r\nX-Secret: 1\r\n", true)]
    [InlineData("X-Secret: 1\r\nconnection: x-secret\r\n", true)]
    [InlineData("X-Secret: 1\r\nConnection: keep-alive\r\nX-Other: 2\r\nConnection: X-Other , X-SECRET\r\nX-Secret: 3\r\n", true)]
    [InlineData("Connection: close, X-Secret\r\nX-Secret: 1\r\n", false)]
    [InlineData("Connection: X-Secret, Content-Language\r\nContent-Language: de\r\nX-Secret: 1\r\n", true)]
    public async Task Response_HeadersNamedInConnection_DroppedAndCloseKeepsItsMeaning(string headers, bool reused)
    {
        await using var container = new RawContainer();
        container.Enqueue(async c =>
        {
            await c.AnswerAsync(RawContainer.Ok("named", headers + "X-Kept: yes\r\n"));
            await c.ServeAsync(h => RawContainer.Ok("again"));
        });
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.GetAsync("/p/named");

        Assert.Equal("named", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("X-Secret"), "A header the container named in Connection was forwarded.");
        Assert.False(response.Headers.Contains("X-Other"), "A header the container named in a second Connection line was forwarded.");
        Assert.False(response.Content.Headers.Contains("Content-Language"), "A content header named in Connection was forwarded.");
        Assert.Empty(response.Headers.Connection);
        Assert.Equal(["yes"], response.Headers.GetValues("X-Kept"));
        Assert.Equal(reused ? "again" : "conn2 /next", await rig.Client.GetStringAsync("/p/next"));
        Assert.Equal(reused ? 1 : 2, container.Accepted);
    }

    [Fact]
    public async Task Response_SlowDripHeadAndBody_AcceptedWithinLimits()
    {
        await using var container = new RawContainer();
        container.Enqueue(async c =>
        {
            Assert.NotNull(await c.ReadRequestAsync());
            await c.DripAsync(RawContainer.Ok("dripped byte by byte", "X-Slow: 1\r\nX-Also-Slow: 2\r\n"));
            await c.ServeAsync(h => RawContainer.Ok("again"));
        });
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.GetAsync("/p/drip");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("dripped byte by byte", await response.Content.ReadAsStringAsync());
        Assert.Equal(["2"], response.Headers.GetValues("X-Also-Slow"));
        Assert.Equal("again", await rig.Client.GetStringAsync("/p/next"));
        Assert.Equal(1, container.Accepted);
    }

    // ---- A hostile container ----

    public static TheoryData<string, string, string> HostileHeads => new()
    {
        { "garbage status line", "HELLO THERE\r\n\r\n", "upstream_responseheaders" },
        { "HTTP/2 status line", "HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n", "upstream_responseheaders" },
        { "status without a space", "HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n", "upstream_responseheaders" },
        { "two-digit status", "HTTP/1.1 99 Odd\r\nContent-Length: 0\r\n\r\n", "upstream_responseheaders" },
        { "signed status", "HTTP/1.1 +20 Odd\r\nContent-Length: 0\r\n\r\n", "upstream_responseheaders" },
        { "101 without an upgrade asked", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "upstream_responseheaders" },
        { "conflicting Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", "upstream_responseheaders" },
        { "Content-Length list", "HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nabc", "upstream_responseheaders" },
        { "Content-Length with +", "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nab", "upstream_responseheaders" },
        { "Content-Length with a letter", "HTTP/1.1 200 OK\r\nContent-Length: 2a\r\n\r\nab", "upstream_responseheaders" },
        { "Content-Length in hex", "HTTP/1.1 200 OK\r\nContent-Length: 0x2\r\n\r\nab", "upstream_responseheaders" },
        { "negative Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nab", "upstream_responseheaders" },
        { "empty Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nab", "upstream_responseheaders" },
        { "overflowing Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nab", "upstream_responseheaders" },
        { "obs-fold header line", "HTTP/1.1 200 OK\r\nX-A: a\r\n folded\r\nContent-Length: 0\r\n\r\n", "upstream_responseheaders" },
        { "space before the colon", "HTTP/1.1 200 OK\r\nX-A : a\r\nContent-Length: 0\r\n\r\n", "upstream_responseheaders" },
        { "header line without a colon", "HTTP/1.1 200 OK\r\nX-A a\r\nContent-Length: 0\r\n\r\n", "upstream_responseheaders" },
        { "NUL in a header value", "HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n", "upstream_responseheaders" },
        { "bare CR in a header value", "HTTP/1.1 200 OK\r\nX-A: a\rSet-Cookie: x=1\r\nContent-Length: 0\r\n\r\n", "upstream_responseheaders" },
        { "non-ASCII bytes in a header value", "HTTP/1.1 200 OK\r\nX-A: caf\u00e9\u00ff\r\nContent-Length: 0\r\n\r\n", "upstream_responseheaders" },
        { "control byte in a header value", "HTTP/1.1 200 OK\r\nX-A: a\u0001b\r\nContent-Length: 0\r\n\r\n", "upstream_responseheaders" },
        { "non-ASCII bytes in a header name", "HTTP/1.1 200 OK\r\nX-\u00e9: a\r\nContent-Length: 0\r\n\r\n", "upstream_responseheaders" },
        { "endless interim answers", string.Concat(Enumerable.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 50)), "upstream_responseheaders" },
        { "101 after an interim answer", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n", "upstream_responseheaders" },
        { "head over 64 KiB", "HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Range(0, 1200).Select(i => $"X-Pad-{i:0000}: {new string('p', 50)}\r\n")) + "Content-Length: 0\r\n\r\n", "upstream_responseheaders" },
        { "one header line over 64 KiB", "HTTP/1.1 200 OK\r\nX-Long: " + new string('l', 70_000), "upstream_responseheaders" },
        { "interim answers over 64 KiB together", string.Concat(Enumerable.Range(0, 4).Select(_ => "HTTP/1.1 103 Early Hints\r\nLink: " + new string('l', 20_000) + "\r\n\r\n")) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "upstream_responseheaders" },
        // The gateway offers the container no transfer coding but chunked (TE is not forwarded); dropping the label would
        // hand the client gzip bytes as the body, and HTTP/2 cannot carry one.
        { "gzip transfer coding before chunked", "HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "upstream_responseheaders" },
        { "gzip transfer coding on its own line", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "upstream_responseheaders" },
        { "gzip transfer coding until close", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello", "upstream_responseheaders" },
        { "empty Transfer-Encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\nhello", "upstream_responseheaders" },
        { "negative chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n", "upstream_responsebodydestination" },
        { "overflowing chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nx\r\n0\r\n\r\n", "upstream_responsebodydestination" },
        { "chunk size not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n0\r\n\r\n", "upstream_responsebodydestination" },
        { "chunk size with 0x", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x1\r\nx\r\n0\r\n\r\n", "upstream_responsebodydestination" },
        { "chunk size with +", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+1\r\nx\r\n0\r\n\r\n", "upstream_responsebodydestination" },
        { "empty chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\nx\r\n0\r\n\r\n", "upstream_responsebodydestination" },
        { "chunk-size line over 4 KiB", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + new string('e', 5000), "upstream_responsebodydestination" },
    };

    [Theory]
    [MemberData(nameof(HostileHeads))]
    public async Task HostileContainer_MalformedAnswer_JsonErrorAndConnectionClosedNotReused(string what, string answer, string code)
    {
        await using var container = new RawContainer();
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            await c.AnswerAsync(answer);
            closed.SetResult(await c.GatewayClosesAsync(Bound));
        });
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.GetAsync("/p/hostile");

        var (status, error) = await ErrorOfAsync(response);
        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal(code, error);
        Assert.False(response.Headers.Contains("X-A"), what);
        Assert.True(await closed.Task, $"The gateway kept the connection open after: {what}.");
        Assert.Equal(0, IdleConnections(rig));
        Assert.Equal("conn2 /next", await rig.Client.GetStringAsync("/p/next"));
        container.AssertNoFaults();
    }

    [Fact]
    public async Task HostileContainer_ExtraBytesAfterBodyInSameWrite_NotServedToNextRequest()
    {
        await using var container = new RawContainer();
        container.Enqueue(async c =>
        {
            await c.AnswerAsync(RawContainer.Ok("first") + RawContainer.Ok("smuggled"));
            await c.ServeAsync(h => RawContainer.Ok("conn1 again"));
        });
        await using var rig = await StartAsync(container);

        Assert.Equal("first", await rig.Client.GetStringAsync("/p/one"));
        Assert.Equal("conn2 /two", await rig.Client.GetStringAsync("/p/two"));
        Assert.Equal(2, container.Accepted);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n0\r\n\r\n")]
    [InlineData("HTTP/1.1 204 No Content\r\nX-First: 1\r\n\r\n")]
    public async Task HostileContainer_ExtraBytesAfterResponseInLaterWrite_NotServedToNextRequest(string first)
    {
        // Response desync: a container that answers twice leaves its second answer waiting on the idle pooled connection;
        // the next client (maybe another user of the app) must not be served it.
        await using var container = new RawContainer();
        var clientGotFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var wroteSmuggled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            await c.AnswerAsync(first);
            await clientGotFirst.Task;
            await c.WriteAsync(RawContainer.Ok("smuggled", "Set-Cookie: session=attacker\r\n"));
            wroteSmuggled.SetResult();
            await c.ServeAsync(h => RawContainer.Ok("conn1 again"));
        });
        await using var rig = await StartAsync(container);

        using (var response = await rig.Client.GetAsync("/p/one"))
        {
            Assert.NotEqual("smuggled", await response.Content.ReadAsStringAsync());
        }

        clientGotFirst.SetResult();
        await wroteSmuggled.Task.WaitAsync(Bound);
        // Let the unsolicited answer cross loopback into the gateway's socket before the next request goes out.
        await Task.Delay(100);
        using var second = await rig.Client.GetAsync("/p/two");

        Assert.Equal("conn2 /two", await second.Content.ReadAsStringAsync());
        Assert.False(second.Headers.Contains("Set-Cookie"));
        Assert.Equal(2, container.Accepted);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(20_000)]
    public async Task HostileContainer_BodyShorterThanContentLength_ClientSeesBrokenResponse(int sent)
    {
        await using var container = new RawContainer();
        container.Enqueue(async c =>
        {
            await c.AnswerAsync($"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{new string('b', sent)}");
            await Task.Delay(20);
            c.Close();
        });
        await using var rig = await StartAsync(container);

        var failure = await Record.ExceptionAsync(async () =>
        {
            using var response = await rig.Client.GetAsync("/p/short");
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.Fail($"A short body was served as a complete answer: {(int)response.StatusCode}, {body.Length} bytes.");
        });

        Assert.IsType<HttpRequestException>(failure);
        Assert.Equal("conn2 /next", await rig.Client.GetStringAsync("/p/next"));
    }

    [Theory]
    [InlineData("5\r\nhello\r\n", true)]
    [InlineData("5\r\nhel", true)]
    [InlineData("5\r\nhello\r\n0\r\nX-Trailer: cut", true)]
    [InlineData("1\r\nxy\r\n0\r\n\r\n", false)]
    [InlineData("5\r\nhello\r\n-1\r\n", false)]
    public async Task HostileContainer_ChunkedBodyBrokenAfterData_ClientSeesBrokenResponse(string body, bool thenClose)
    {
        await using var container = new RawContainer();
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            await c.AnswerAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
            if (thenClose)
            {
                await Task.Delay(20);
                c.Close();
                closed.SetResult(true);
            }
            else
            {
                closed.SetResult(await c.GatewayClosesAsync(Bound));
            }
        });
        await using var rig = await StartAsync(container);

        await Assert.ThrowsAsync<HttpRequestException>(() => rig.Client.GetStringAsync("/p/cut"));

        Assert.True(await closed.Task, "The gateway kept the connection of a broken chunked body.");
        Assert.Equal("conn2 /next", await rig.Client.GetStringAsync("/p/next"));
    }

    [Fact]
    public async Task HostileContainer_AcceptsAndNeverAnswers_GatewayTimeoutAndConnectionClosed()
    {
        await using var container = new RawContainer();
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            Assert.NotNull(await c.ReadRequestAsync());
            closed.SetResult(await c.GatewayClosesAsync(Bound));
        });
        await using var rig = await StartAsync(container, o => o.RequestActivityTimeout = TimeSpan.FromSeconds(1));

        using var response = await rig.Client.GetAsync("/p/silent");

        var (status, error) = await ErrorOfAsync(response);
        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        Assert.Equal("upstream_requesttimedout", error);
        Assert.True(await closed.Task, "The gateway kept the connection of a container that never answered.");
        Assert.Equal(0, IdleConnections(rig));
    }

    [Fact]
    public async Task HostileContainer_HeadThenSilence_GatewayTimeoutNotAHang()
    {
        await using var container = new RawContainer();
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            await c.AnswerAsync("HTTP/1.1 200 OK\r\nContent-");
            closed.SetResult(await c.GatewayClosesAsync(Bound));
        });
        await using var rig = await StartAsync(container, o => o.RequestActivityTimeout = TimeSpan.FromSeconds(1));

        using var response = await rig.Client.GetAsync("/p/half");

        var (status, error) = await ErrorOfAsync(response);
        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        Assert.Equal("upstream_requesttimedout", error);
        Assert.True(await closed.Task);
    }

    [Fact]
    public async Task HostileContainer_ClosesWithoutAnswerOnNewConnection_502NotRetried()
    {
        await using var container = new RawContainer();
        container.Enqueue(async c =>
        {
            Assert.NotNull(await c.ReadRequestAsync());
            c.Close();
        });
        await using var rig = await StartAsync(container);

        using var response = await rig.Client.GetAsync("/p/close");

        var (status, error) = await ErrorOfAsync(response);
        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal("upstream_request", error);
        // A request sent on a fresh connection is not sent again: the container may have acted on it.
        Assert.Equal(1, container.Accepted);
    }

    // ---- The client ----

    [Fact]
    public async Task Client_AbortsMidResponse_ContainerConnectionClosedNotPooled()
    {
        await using var container = new RawContainer();
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            Assert.NotNull(await c.ReadRequestAsync());
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n" + new string('a', 64 * 1024));
            closed.SetResult(await c.GatewayClosesAsync(Bound));
        });
        await using var rig = await StartAsync(container);

        using (var response = await rig.Client.GetAsync("/p/long", HttpCompletionOption.ResponseHeadersRead))
        {
            var stream = await response.Content.ReadAsStreamAsync();
            Assert.True(await stream.ReadAsync(new byte[1024]) > 0);
        }

        Assert.True(await closed.Task, "The gateway kept the container connection of a response its client abandoned.");
        Assert.Equal(0, IdleConnections(rig));
        Assert.Equal("conn2 /next", await rig.Client.GetStringAsync("/p/next"));
        Assert.Equal(2, container.Accepted);
    }

    [Fact]
    public async Task Client_AbortsWhileContainerIsSilent_ContainerConnectionClosed()
    {
        await using var container = new RawContainer();
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            Assert.NotNull(await c.ReadRequestAsync());
            closed.SetResult(await c.GatewayClosesAsync(Bound));
        });
        await using var rig = await StartAsync(container);
        using var cancel = new CancellationTokenSource();

        var request = rig.Client.GetAsync("/p/wait", cancel.Token);
        while (container.Requests.IsEmpty)
        {
            await Task.Delay(10);
        }

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);

        Assert.True(await closed.Task, "The gateway kept waiting on the container for a client that left.");
        Assert.Equal(0, IdleConnections(rig));
        Assert.Equal(0, rig.Object.AliveChecks);
    }

    [Fact]
    public async Task Client_StopsReadingLongerThanActivityTimeout_ResponseAbortedContainerNotBlamed()
    {
        await using var container = new RawContainer();
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        container.Enqueue(async c =>
        {
            try
            {
                Assert.NotNull(await c.ReadRequestAsync());
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n");
                var block = new byte[64 * 1024];
                while (true)
                {
                    // Writes block once every buffer between here and the stalled client is full.
                    await c.WriteAsync(block);
                }
            }
            finally
            {
                closed.TrySetResult();
            }
        });
        await using var rig = await StartAsync(container, o => o.RequestActivityTimeout = TimeSpan.FromSeconds(1));

        using var response = await rig.Client.GetAsync("/p/stream", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        Assert.True(await body.ReadAsync(new byte[1024]) > 0);
        // The client now reads nothing: the gateway gives up on it after the activity timeout and closes the container connection.
        await closed.Task.WaitAsync(Bound);

        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            var buffer = new byte[64 * 1024];
            while (await body.ReadAsync(buffer) > 0)
            {
            }
        });
        Assert.Equal(0, rig.Object.AliveChecks);
        Assert.Equal(0, IdleConnections(rig));
    }

    [Fact]
    public async Task Http2Client_Get_ForwardedOverHttp1WithoutPseudoOrHopHeaders()
    {
        await using var container = new RawContainer();
        await using var rig = await StartAsync(container);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/p/h2?x=1") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.TE.ParseAdd("trailers");

        using var response = await rig.DuplexClient.SendAsync(request);

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("conn1 /h2?x=1", await response.Content.ReadAsStringAsync());
        var headers = HeadersOf(container.Requests.Single());
        Assert.DoesNotContain(headers, h => h.Name.StartsWith(':') || h.Name.Equals("TE", StringComparison.OrdinalIgnoreCase));
        Assert.Equal([$"127.0.0.1:{container.Port}"], ValuesOf(headers, "Host"));
        Assert.Equal([rig.DuplexClient.BaseAddress!.Authority], ValuesOf(headers, "X-Forwarded-Host"));
    }

    [Fact]
    public async Task ForwarderYarp_Get_ForwardedThroughYarpWithoutTheHttp1Pool()
    {
        await using var container = new RawContainer();
        await using var rig = await StartAsync(container, o => o.Forwarder = ContainerForwarderKind.Yarp);

        Assert.Null(rig.Forwarder.Http1Forwarder);
        Assert.Equal("conn1 /a%2Fb?q=1", await rig.Client.GetStringAsync("/p/a%2Fb?q=1"));
        Assert.Equal("conn1 /c", await rig.Client.GetStringAsync("/p/c"));
        Assert.Equal(1, container.Accepted);
    }

    [Fact]
    public async Task ForwarderYarp_ConnectionNamedHeaderAndGzipCoding_SameRulesAsHttp1()
    {
        await using var container = new RawContainer();
        container.Enqueue(c => c.AnswerAsync(RawContainer.Ok("named", "Connection: X-Secret\r\nX-Secret: 1\r\nX-Kept: yes\r\n")));
        container.Enqueue(async c =>
        {
            await c.AnswerAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
            await c.GatewayClosesAsync(Bound);
        });
        await using var rig = await StartAsync(container, o => o.Forwarder = ContainerForwarderKind.Yarp);

        using (var named = await rig.Client.GetAsync("/p/named"))
        {
            Assert.Equal("named", await named.Content.ReadAsStringAsync());
            Assert.False(named.Headers.Contains("X-Secret"), "A header the container named in Connection was forwarded.");
            Assert.Equal(["yes"], named.Headers.GetValues("X-Kept"));
        }

        using var coded = await rig.Client.GetAsync("/p/coded");
        var (status, error) = await ErrorOfAsync(coded);
        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal("upstream_responseheaders", error);
    }

    // ---- The request head, written without Kestrel (the allocation-free warm path, issue 17) ----

    private static DefaultHttpContext WarmContext(string remote)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("127.0.0.1", 8787);
        context.Request.PathBase = "/c/warm";
        context.Request.Path = "/hello";
        context.Request.QueryString = new QueryString("?q=1");
        context.Request.Headers.Accept = "*/*";
        context.Request.Headers.UserAgent = "wrk";
        context.Request.Headers.Cookie = new StringValues(["a=1", "b=2"]);
        context.Request.Headers.Connection = "X-Hop";
        context.Request.Headers["X-Hop"] = "dropped";
        context.Request.Headers["X-Berth-Object-Id"] = "forged";
        context.Request.Headers["X-Kept"] = "yes";
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        return context;
    }

    private static string HeadOf(DefaultHttpContext context)
    {
        var buffer = new byte[4096];
        var length = Http1.Http1Forwarder.WriteHead(context, "10.0.0.9:8080"u8, ref buffer);
        return Encoding.ASCII.GetString(buffer, 0, length);
    }

    [Theory]
    [InlineData("::ffff:10.1.2.3", "10.1.2.3")]
    [InlineData("::ffff:255.0.9.100", "255.0.9.100")]
    [InlineData("10.1.2.3", "10.1.2.3")]
    [InlineData("::1", "::1")]
    [InlineData("2001:db8::7", "2001:db8::7")]
    public void WriteHead_ClientAddress_XForwardedForAsYarpWritesIt(string remote, string expected)
    {
        var headers = HeadersOf(HeadOf(WarmContext(remote)));

        Assert.Equal([expected], ValuesOf(headers, "X-Forwarded-For"));
    }

    [Fact]
    public void WriteHead_HeadersCopiedFromTheRequest_SameRulesAsOverKestrel()
    {
        var head = HeadOf(WarmContext("::ffff:127.0.0.1"));

        Assert.Equal("GET /hello?q=1 HTTP/1.1", head.Split("\r\n")[0]);
        var headers = HeadersOf(head);
        Assert.Equal("Host", headers[0].Name);
        Assert.Equal(["10.0.0.9:8080"], ValuesOf(headers, "Host"));
        Assert.Equal(["*/*"], ValuesOf(headers, "Accept"));
        Assert.Equal(["wrk"], ValuesOf(headers, "User-Agent"));
        Assert.Equal(["a=1; b=2"], ValuesOf(headers, "Cookie"));
        Assert.Equal(["yes"], ValuesOf(headers, "X-Kept"));
        Assert.Empty(ValuesOf(headers, "Connection"));
        Assert.Empty(ValuesOf(headers, "X-Hop"));
        Assert.Empty(ValuesOf(headers, "X-Berth-Object-Id"));
        Assert.Equal(["/c/warm"], ValuesOf(headers, "X-Forwarded-Prefix"));
        Assert.EndsWith("\r\n\r\n", head, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteHead_WarmRequest_AllocatesNothing()
    {
        // Exact, not timed: the bytes this thread allocated. Enumerating IHeaderDictionary boxed an enumerator and an
        // IPv4-mapped client address was mapped to a new IPAddress, per request, before issue 17's pass.
        var context = WarmContext("::ffff:127.0.0.1");
        var buffer = new byte[4096];
        Http1.Http1Forwarder.WriteHead(context, "10.0.0.9:8080"u8, ref buffer);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            Http1.Http1Forwarder.WriteHead(context, "10.0.0.9:8080"u8, ref buffer);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"Writing a warm request head 100 times allocated {allocated} bytes.");
    }
}
