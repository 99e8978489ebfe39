using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Egress.Tests;

/// <summary>
/// Outbound handlers through the egress proxy in process: a client on 127.0.0.1 whose <see cref="EgressClient.Outbound"/>
/// answers some hosts. The policy is "internet off" unless a case says otherwise, so anything that is not answered by
/// a handler is denied (and no upstream exists to reach).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes through IAsyncLifetime.DisposeAsync.")]
public sealed class OutboundProxyTests : IAsyncLifetime
{
    private const int Mib = 1024 * 1024;
    private readonly EgressClients _clients = new();
    private readonly CapturingLogger _objectLog = new();
    private EgressProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        _proxy = new EgressProxy(_clients, (_, _) => throw new SocketException((int)SocketError.HostNotFound), Options.Create(new EgressOptions()),
            new FakeTimeProvider(), NullLogger<EgressProxy>.Instance);
        await _proxy.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
    }

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    private EgressClient Register(TestHandler handler, EgressPolicy? policy = null)
    {
        var client = new EgressClient("Sandbox 1", policy ?? EgressPolicy.Create(false, [], []), _objectLog) { Outbound = handler };
        _clients.Register(IPAddress.Loopback, client);
        return client;
    }

    private HttpClient ProxiedClient() =>
        new(new SocketsHttpHandler { Proxy = new WebProxy($"http://127.0.0.1:{_proxy.LocalEndPoint!.Port}"), UseProxy = true }) { Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task ByHostHandler_InternetOff_AnswersWithStatusHeadersBodyAndLogsHostStatusBytes()
    {
        var client = Register(new TestHandler(["api.internal"], catchAll: false, async (request, response, ct) =>
        {
            response.StatusCode = 201;
            response.SetHeader("Content-Type", "text/plain");
            response.SetHeader("X-Seen", request.Header("X-Tenant") ?? "none");
            await response.WriteAsync($"{request.Method} {request.Host}:{request.Port} {request.PathAndQuery} {request.Url}", ct);
        }));
        using var http = ProxiedClient();
        using var message = new HttpRequestMessage(HttpMethod.Get, "http://api.internal/items?x=1");
        message.Headers.Add("X-Tenant", "t1");

        using var response = await http.SendAsync(message);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("t1", response.Headers.GetValues("X-Seen").Single());
        Assert.Equal("GET api.internal:80 /items?x=1 http://api.internal/items?x=1", await response.Content.ReadAsStringAsync());
        Assert.True(client.BytesOut > 0 && client.BytesIn > 0, $"out {client.BytesOut}, in {client.BytesIn}");
        Assert.Contains(_objectLog.Messages, m => m.Contains("Sandbox 1", StringComparison.Ordinal) && m.Contains("api.internal", StringComparison.Ordinal)
            && m.Contains("201", StringComparison.Ordinal) && m.Contains("bytes out", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HostWithoutHandler_PolicyApplies_403EgressDenied()
    {
        var handler = new TestHandler(["api.internal"], catchAll: false, (_, response, ct) => response.WriteAsync("handled", ct));
        Register(handler);
        using var http = ProxiedClient();

        using var response = await http.GetAsync(new Uri("http://other.test/"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(EgressErrorCodes.Denied, json.RootElement.GetProperty("error").GetString());
        Assert.Equal(0, handler.Calls);
    }

    [Fact]
    public async Task CatchAll_AnswersOtherHosts_ByHostHandlerKeepsItsHost()
    {
        Register(new TestHandler(["api.internal"], catchAll: true, (request, response, ct) =>
            response.WriteAsync(request.Host == "api.internal" ? "by-host" : "catch-all:" + request.Host, ct)));
        using var http = ProxiedClient();

        Assert.Equal("catch-all:anything.example", await http.GetStringAsync(new Uri("http://anything.example/")));
        Assert.Equal("by-host", await http.GetStringAsync(new Uri("http://API.internal/")));
    }

    [Fact]
    public async Task HandlerThrows_BeforeAnswer_502JsonOutboundHandlerFailedAndObjectLogHasIt()
    {
        Register(new TestHandler(["boom.internal"], catchAll: false, (_, _, _) => throw new InvalidOperationException("secret detail")));
        using var http = ProxiedClient();

        using var response = await http.GetAsync(new Uri("http://boom.internal/x"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(OutboundErrorCodes.HandlerFailed, response.Headers.GetValues("X-Berth-Error").Single());
        var text = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(text);
        Assert.Equal(OutboundErrorCodes.HandlerFailed, json.RootElement.GetProperty("error").GetString());
        Assert.Equal("boom.internal", json.RootElement.GetProperty("host").GetString());
        // The exception stays in the object's log; the container learns only that the handler failed.
        Assert.DoesNotContain("secret detail", text, StringComparison.Ordinal);
        Assert.Contains(_objectLog.Errors, e => e.Message == "secret detail");
    }

    [Fact]
    public async Task HandlerThrows_AfterAnswerStarted_ConnectionIsCutNotEnded()
    {
        Register(new TestHandler(["half.internal"], catchAll: false, async (_, response, ct) =>
        {
            await response.WriteAsync(new byte[1000], ct);
            throw new InvalidOperationException("half way");
        }));
        using var http = ProxiedClient();

        using var response = await http.GetAsync(new Uri("http://half.internal/"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Assert.ThrowsAnyAsync<Exception>(async () => await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Connect_ToByHostHandlerHost_502TlsUnsupportedAndHandlerNotCalled()
    {
        var handler = new TestHandler(["api.internal"], catchAll: false, (_, response, ct) => response.WriteAsync("handled", ct));
        Register(handler, EgressPolicy.Create(true, [], []));

        var answer = await RawAsync("CONNECT api.internal:443 HTTP/1.1\r\nHost: api.internal:443\r\n\r\n"u8.ToArray());

        Assert.StartsWith("HTTP/1.1 502 ", answer, StringComparison.Ordinal);
        Assert.Contains(OutboundErrorCodes.TlsUnsupported, answer, StringComparison.Ordinal);
        Assert.Equal(0, handler.Calls);
        Assert.Contains(_objectLog.Messages, m => m.Contains("TLS to api.internal:443", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Streamed50MbUpAndDown_HandlerSeesBodyBeforeItIsAllSent_ClientSeesAnswerBeforeItIsAllWritten()
    {
        const long fifty = 50L * Mib;
        var handlerSawFirstMib = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clientSawFirstMib = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long received = 0;
        var largestRead = 0;
        var client = Register(new TestHandler(["bulk.internal"], catchAll: false, async (request, response, ct) =>
        {
            var buffer = new byte[256 * 1024];
            int read;
            while ((read = await request.Body.ReadAsync(buffer, ct)) > 0)
            {
                received += read;
                largestRead = Math.Max(largestRead, read);
                if (received >= Mib)
                {
                    handlerSawFirstMib.TrySetResult();
                }
            }

            var chunk = new byte[64 * 1024];
            for (long sent = 0; sent < fifty; sent += chunk.Length)
            {
                if (sent == Mib)
                {
                    // The rest is written only once the client holds the first MiB: the answer is not buffered whole.
                    await clientSawFirstMib.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
                }

                await response.WriteAsync(chunk, ct);
            }
        }));
        using var http = ProxiedClient();
        using var upload = new StreamContent(new GatedStream(fifty, Mib, handlerSawFirstMib.Task));
        using var message = new HttpRequestMessage(HttpMethod.Post, "http://bulk.internal/up") { Content = upload };

        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        long total = 0;
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await body.ReadAsync(buffer)) > 0)
        {
            total += n;
            if (total >= Mib)
            {
                clientSawFirstMib.TrySetResult();
            }
        }

        Assert.Equal(fifty, received);
        Assert.Equal(fifty, total);
        Assert.InRange(largestRead, 1, 256 * 1024);
        Assert.True(client.BytesOut >= fifty && client.BytesIn >= fifty, $"out {client.BytesOut}, in {client.BytesIn}");
    }

    [Fact]
    public async Task ContentLengthBody_WithExpectContinue_HandlerReadsExactlyTheBody()
    {
        Register(new TestHandler(["api.internal"], catchAll: false, async (request, response, ct) =>
        {
            using var reader = new StreamReader(request.Body);
            var text = await reader.ReadToEndAsync(ct);
            await response.WriteAsync($"{request.ContentLength}:{text}", ct);
        }));

        var answer = await RawAsync("POST /p HTTP/1.1\r\nHost: api.internal\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhelloEXTRA"u8.ToArray());

        Assert.StartsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", answer, StringComparison.Ordinal);
        Assert.Contains("Transfer-Encoding: chunked", answer, StringComparison.Ordinal);
        Assert.EndsWith("7\r\n5:hello\r\n0\r\n\r\n", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChunkedBodyWithExtensionsAndTrailers_IsDecoded()
    {
        Register(new TestHandler(["api.internal"], catchAll: false, async (request, response, ct) =>
        {
            using var reader = new StreamReader(request.Body);
            var text = await reader.ReadToEndAsync(ct);
            response.ContentLength = Encoding.UTF8.GetByteCount(text);
            await response.WriteAsync(text, ct);
        }));

        var answer = await RawAsync("POST /p HTTP/1.1\r\nHost: api.internal\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n"u8.ToArray());

        Assert.Contains("Content-Length: 13\r\n", answer, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nabc0123456789", answer, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("Transfer-Encoding: gzip\r\n\r\n")]
    [InlineData("Content-Length: 3\r\nContent-Length: 4\r\n\r\n")]
    [InlineData("Content-Length: -1\r\n\r\n")]
    [InlineData("Transfer-Encoding: chunked\r\n\r\nzz\r\n")]
    [InlineData("Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n")]
    public async Task UnreadableBodyFraming_400OutboundBadRequest(string rest)
    {
        Register(new TestHandler(["api.internal"], catchAll: false, async (request, response, ct) =>
        {
            await request.Body.CopyToAsync(Stream.Null, ct);
            await response.WriteAsync("read", ct);
        }));

        var answer = await RawAsync(Encoding.ASCII.GetBytes("POST /p HTTP/1.1\r\nHost: api.internal\r\n" + rest));

        Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
        Assert.Contains(OutboundErrorCodes.BadRequest, answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http10Client_BodyEndsWithTheConnection_NotChunked()
    {
        Register(new TestHandler(["api.internal"], catchAll: false, (_, response, ct) => response.WriteAsync("plain", ct)));

        var answer = await RawAsync("GET http://api.internal/ HTTP/1.0\r\n\r\n"u8.ToArray());

        Assert.DoesNotContain("chunked", answer, StringComparison.Ordinal);
        Assert.EndsWith("Connection: close\r\n\r\nplain", answer, StringComparison.Ordinal);
    }

    [Fact]
    public void RouteTable_ExactBeatsGlob_LongestGlobWins_CatchAllTakesTheRest()
    {
        var table = OutboundRouteTable.Create(["*.internal", "API.eu.internal", "*.eu.internal"], catchAll: true);

        Assert.Equal(OutboundRoute.ByHost, table.Route("api.eu.internal", out var exact));
        Assert.Equal("API.eu.internal", exact);
        Assert.Equal(OutboundRoute.ByHost, table.Route("db.eu.internal", out var longest));
        Assert.Equal("*.eu.internal", longest);
        Assert.Equal(OutboundRoute.ByHost, table.Route("x.internal", out var glob));
        Assert.Equal("*.internal", glob);
        Assert.Equal(OutboundRoute.CatchAll, table.Route("example.com", out var none));
        Assert.Null(none);
        Assert.Equal(["api.eu.internal"], table.ExactHosts);
        Assert.Equal(OutboundRoute.None, OutboundRouteTable.Create(["api.internal"], catchAll: false).Route("other.internal", out _));
    }

    [Theory]
    [InlineData("api..internal")]
    [InlineData("api internal")]
    [InlineData("")]
    public void RouteTable_InvalidPattern_Throws(string pattern) =>
        Assert.Throws<ArgumentException>(() => OutboundRouteTable.Create([pattern], catchAll: false));

    [Fact]
    public void RouteTable_SameHostTwiceInAnotherCase_Throws() =>
        Assert.Throws<ArgumentException>(() => OutboundRouteTable.Create(["api.internal", "API.internal."], catchAll: false));

    [Fact]
    public async Task Response_ReservedHeaderOrTooLongBody_Throws()
    {
        using var sink = new MemoryStream();
        var response = OutboundResponse.Create(sink);

        Assert.Throws<ArgumentException>(() => response.SetHeader("Content-Length", "3"));
        Assert.Throws<ArgumentException>(() => response.SetHeader("X-Ok", "a\r\nInjected: 1"));
        Assert.Throws<ArgumentOutOfRangeException>(() => response.StatusCode = 101);
        response.ContentLength = 2;
        await Assert.ThrowsAsync<InvalidOperationException>(() => response.WriteAsync("abc"));
    }

    [Theory]
    [InlineData("docs/egress.md")]
    [InlineData("docs/errors.md")]
    public void ErrorCodes_EveryOutboundCode_IsDocumented(string doc)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Berth.slnx")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        var text = File.ReadAllText(Path.Combine(directory.FullName, doc));
        Assert.All(OutboundErrorCodes.All, code => Assert.Contains($"| `{code}` |", text, StringComparison.Ordinal));
    }

    private async Task<string> RawAsync(byte[] request)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, _proxy.LocalEndPoint!.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(request);
        using var memory = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await stream.CopyToAsync(memory, timeout.Token);
        }
        catch (IOException)
        {
        }

        return Encoding.Latin1.GetString(memory.ToArray());
    }

    /// <summary>A handler over a route table, counting its calls.</summary>
    private sealed class TestHandler(IEnumerable<string> hosts, bool catchAll, Func<OutboundRequest, OutboundResponse, CancellationToken, Task> handle) : IOutboundHandler
    {
        private readonly OutboundRouteTable _routes = OutboundRouteTable.Create(hosts, catchAll);
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public OutboundRoute Route(string host) => _routes.Route(host, out _);

        public Task HandleAsync(OutboundRequest request, OutboundResponse response, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return handle(request, response, cancellationToken);
        }
    }

    /// <summary>A body of <c>length</c> zero bytes that stops after <c>gateAt</c> bytes until <c>gate</c> completes.</summary>
    private sealed class GatedStream(long length, long gateAt, Task gate) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= length)
            {
                return 0;
            }

            if (_position >= gateAt)
            {
                // Only once the handler has the first bytes: the proxy does not wait for the whole body.
                await gate.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            }

            var limit = _position < gateAt ? gateAt : length;
            var count = (int)Math.Min(buffer.Length, limit - _position);
            buffer.Span[..count].Clear();
            _position += count;
            return count;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class CapturingLogger : ILogger
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public ConcurrentQueue<Exception> Errors { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            Messages.Enqueue(formatter(state, exception));
            if (exception is not null)
            {
                Errors.Enqueue(exception);
            }
        }
    }
}
