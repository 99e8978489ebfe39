using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Cli.Tests;

/// <summary><c>berth tail</c> and <c>containers logs --platform</c>: arguments, the request they make, and output formatting.</summary>
public sealed class CliTailTests : IDisposable
{
    private static readonly string ObjectA = new('a', 64);

    private static readonly string Stdout =
        $$"""{"time":"2026-03-04T12:00:01.2500000Z","source":"stdout","app":"demo","class":"Sandbox","object":"{{ObjectA}}","object_name":"session-1","container":"c0ffee000000","level":null,"category":null,"event_id":null,"event":null,"message":"hello"}""";

    private static readonly string Platform =
        $$"""{"time":"2026-03-04T12:00:02Z","source":"platform","app":"demo","class":"Sandbox","object":"{{ObjectA}}","object_name":null,"container":null,"level":"warning","category":"Berth.Containers.Container","event_id":1118,"event":"ContainerObjectCrashed","message":"crashed"}""";

    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();
    private readonly TempDirectory _dir = new();
    private readonly SseAdmin _admin = new();
    private readonly FakeTimeProvider _time = new();
    private readonly Dictionary<string, string> _variables = new(StringComparer.Ordinal) { ["BERTH_ADMIN_TOKEN"] = "env-token" };

    public void Dispose()
    {
        _out.Dispose();
        _err.Dispose();
        _dir.Dispose();
        _admin.Dispose();
    }

    // The dev state these tests write names this process as its berth dev.
    private static bool IsTestProcess(int processId) => processId == Environment.ProcessId;

    private Task<int> RunAsync(params string[] args) => RunAsync(CancellationToken.None, args);

    private Task<int> RunAsync(CancellationToken cancellationToken, params string[] args) =>
        BerthCli.RunAsync(args, _out, _err, null, null,
            new CliEnvironment(name => _variables.GetValueOrDefault(name), _dir.Path, _time, null, _admin, IsTestProcess), cancellationToken);

    [Fact]
    public async Task Tail_Filters_SentAsQuery_RecordsPrinted_ReconnectsOnceWithNewRecordsOnly()
    {
        _admin.Body = $": heartbeat\n\nevent: log\ndata: {Stdout}\n\nevent: log\ndata: {Platform}\n\n";

        var exit = await RunAsync("tail", "--class", "Sandbox", "--object", "session-1", "--source", "all", "-n", "5");

        Assert.Equal(
        [
            "http://127.0.0.1:8787/_berth/admin/logs?follow=true&class=Sandbox&object=session-1&source=all&tail=5",
            "http://127.0.0.1:8787/_berth/admin/logs?follow=true&class=Sandbox&object=session-1&source=all&tail=0",
        ], _admin.Requests);
        var lines = _out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("12:00:01.250 Sandbox/session-1 out | hello", lines[0]);
        Assert.Equal("12:00:02.000 Sandbox/aaaaaaaa warn ContainerObjectCrashed | crashed", lines[1]);
        Assert.Equal(4, lines.Length);
        Assert.Contains("reconnecting once", _err.ToString(), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.HostError, exit);
    }

    [Fact]
    public async Task Tail_HostResetsTheStreamThenRestarts_ReconnectsWhenItListensAgain()
    {
        // A restarting host resets the connection (no clean end), then refuses connections for a few seconds.
        _admin.Body = $"event: log\ndata: {Stdout}\n\n";
        _admin.ResetAfterBody = 1;
        _admin.RefuseRequests = 3;
        using var clock = new CancellationTokenSource();
        var ticking = Task.Run(async () =>
        {
            while (!clock.IsCancellationRequested)
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(10);
            }
        });

        var exit = await RunAsync("tail");
        await clock.CancelAsync();
        await ticking;

        // Before: "unexpected error" with the IOException's stack trace, exit 70.
        Assert.DoesNotContain("unexpected error", _err.ToString(), StringComparison.Ordinal);
        Assert.Contains("reconnecting once", _err.ToString(), StringComparison.Ordinal);
        Assert.Equal(5, _admin.Requests.Count);
        Assert.EndsWith("tail=0", _admin.Requests[^1], StringComparison.Ordinal);
        Assert.Equal(2, _out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(ExitCodes.HostError, exit);
    }

    private const string HostStoppingEnd = "event: end\ndata: {\"reason\":\"host_stopping\"}\n\n";

    /// <summary>Runs berth with a clock that moves a second every few milliseconds, for its waits between reconnects.</summary>
    private Task<int> RunTickingAsync(params string[] args) => RunTickingAsync(CancellationToken.None, args);

    private async Task<int> RunTickingAsync(CancellationToken cancellationToken, params string[] args)
    {
        using var clock = new CancellationTokenSource();
        var ticking = Task.Run(async () =>
        {
            while (!clock.IsCancellationRequested)
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(5);
            }
        });
        try
        {
            return await RunAsync(cancellationToken, args);
        }
        finally
        {
            await clock.CancelAsync();
            await ticking;
        }
    }

    private Task WriteDevStateAsync(bool watch = true, bool stopping = false) =>
        DevState.WriteAsync(_dir.Path, new DevState(new Uri("http://127.0.0.1:8787/"), Path.Combine(_dir.Path, "data"), Environment.ProcessId, _time.GetUtcNow(), watch, stopping), CancellationToken.None);

    private static int Count(string text, string part) => text.Split(part).Length - 1;

    [Fact]
    public async Task Tail_HostStoppingNotThroughBerthDev_SaysItWaitsFollowsTheHostAgainThenGivesUp()
    {
        // Found through --host: nobody can say whether the host comes back (a service manager may restart it).
        _admin.Answer = n => n switch
        {
            1 => $": heartbeat\n\nevent: log\ndata: {Stdout}\n\n{HostStoppingEnd}",
            5 => $": heartbeat\n\nevent: log\ndata: {Platform}\n\n{HostStoppingEnd}",
            _ => null,
        };

        var exit = await RunTickingAsync("tail", "--host", "http://127.0.0.1:8787");

        // Before: "reconnecting once", then exit 76 when the restarted host stopped too; nothing said the 60 s wait was one.
        var error = _err.ToString();
        Assert.Equal(2, Count(error, "berth: the host stopped; waiting up to 60 s for it to come back (Ctrl+C to quit)."));
        Assert.DoesNotContain("reconnecting", error, StringComparison.Ordinal);
        Assert.Contains("The host did not come back within 60 s.", error, StringComparison.Ordinal);
        Assert.Contains("(from --host)", error, StringComparison.Ordinal);
        Assert.Equal(2, _out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.All(_admin.Requests.Skip(1), r => Assert.EndsWith("tail=0", r, StringComparison.Ordinal));
        Assert.Equal(ExitCodes.HostUnreachable, exit);
    }

    [Fact]
    public async Task Tail_BerthDevStopsTheApp_SaysTheHostStoppedAndExits0()
    {
        await WriteDevStateAsync();
        _admin.Answer = n =>
        {
            // berth dev notes the stop for good in its state before the app hears of it.
            WriteDevStateAsync(stopping: true).GetAwaiter().GetResult();
            return $"event: log\ndata: {Stdout}\n\n{HostStoppingEnd}";
        };

        var exit = await RunTickingAsync("tail");

        // Before: 60 s of retries that looked hung, then exit 69 saying "(from the running berth dev)".
        Assert.Equal("berth: the host stopped.\n", _err.ToString().ReplaceLineEndings("\n"));
        Assert.Single(_admin.Requests);
        Assert.Equal(ExitCodes.Success, exit);
    }

    [Fact]
    public async Task Tail_BerthDevWatchRestart_WaitsSayingSoAndFollowsTheRestartedHost()
    {
        await WriteDevStateAsync();
        _admin.Answer = n =>
        {
            if (n == 4)
            {
                WriteDevStateAsync(stopping: true).GetAwaiter().GetResult();
            }

            return n switch
            {
                1 => $"event: log\ndata: {Stdout}\n\n{HostStoppingEnd}",
                4 => $": heartbeat\n\nevent: log\ndata: {Platform}\n\n{HostStoppingEnd}",
                _ => null,
            };
        };

        var exit = await RunTickingAsync("tail");

        var error = _err.ToString().ReplaceLineEndings("\n");
        Assert.Equal(
            "berth: the host stopped; berth dev is restarting it: waiting up to 60 s for it to listen again (Ctrl+C to quit).\n"
            + "berth: the host stopped.\n", error);
        Assert.Equal(4, _admin.Requests.Count);
        Assert.Equal(2, _out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(ExitCodes.Success, exit);
    }

    /// <summary>Writes the token file a host writes into the data directory <c>berth dev</c> names; returns its path.</summary>
    private string WriteTokenFile(string token)
    {
        var file = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName, "admin-token");
        File.WriteAllText(file, token + "\n");
        return file;
    }

    /// <summary>
    /// A watch restart as berth dev does it: the first stream ends with the host stopping; the restarted host writes a new
    /// token file and requires that token (request 2 finds it not listening yet); the third stream ends with berth dev stopping for good.
    /// </summary>
    private void RestartWithNewToken(string tokenFile)
    {
        _admin.Answer = n =>
        {
            switch (n)
            {
                case 1:
                    return $"event: log\ndata: {Stdout}\n\n{HostStoppingEnd}";
                case 2:
                    File.WriteAllText(tokenFile, "token-2\n");
                    _admin.RequiredToken = "token-2";
                    return null;
                default:
                    WriteDevStateAsync(stopping: true).GetAwaiter().GetResult();
                    return $"event: log\ndata: {Platform}\n\n{HostStoppingEnd}";
            }
        };
    }

    [Fact]
    public async Task Tail_BerthDevWatchRestartWritesANewToken_FollowsTheRestartedHostWithTheNewToken()
    {
        _variables.Remove("BERTH_ADMIN_TOKEN");
        await WriteDevStateAsync();
        _admin.RequiredToken = "token-1";
        RestartWithNewToken(WriteTokenFile("token-1"));

        var exit = await RunTickingAsync("tail");

        // Before: the old token again, "refused the admin token (from …/data/admin-token)", exit 77.
        var error = _err.ToString().ReplaceLineEndings("\n");
        Assert.DoesNotContain("refused", error, StringComparison.Ordinal);
        Assert.Equal(
            "berth: the host stopped; berth dev is restarting it: waiting up to 60 s for it to listen again (Ctrl+C to quit).\n"
            + "berth: the host stopped.\n", error);
        Assert.Equal(["Bearer token-1", "Bearer token-1", "Bearer token-2"], _admin.Authorizations);
        Assert.Equal(2, _out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(ExitCodes.Success, exit);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Tail_BerthDevWatchRestartWithATokenGivenExplicitly_SendsItStillAndNamesItWhenRefused(bool asOption)
    {
        // --token or $BERTH_ADMIN_TOKEN wins over the token file before the restart and after it.
        await WriteDevStateAsync();
        _variables["BERTH_ADMIN_TOKEN"] = "given";
        _admin.RequiredToken = "given";
        RestartWithNewToken(WriteTokenFile("token-1"));

        var exit = await RunTickingAsync(asOption ? ["tail", "--token", "given"] : ["tail"]);

        Assert.Equal(ExitCodes.Unauthorized, exit);
        Assert.All(_admin.Authorizations, a => Assert.Equal("Bearer given", a));
        Assert.Contains($"refused the admin token ({(asOption ? "from --token" : "from $BERTH_ADMIN_TOKEN")})", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tail_BerthDevEndsWhileTailWaits_StopsWaitingWithoutClaimingItRuns()
    {
        await WriteDevStateAsync();
        _admin.Answer = n =>
        {
            if (n == 3)
            {
                DevState.Delete(_dir.Path, Environment.ProcessId);
            }

            return n == 1 ? $"event: log\ndata: {Stdout}\n\n{HostStoppingEnd}" : null;
        };

        var exit = await RunTickingAsync("tail");

        var error = _err.ToString();
        Assert.EndsWith("berth: the host stopped (berth dev has ended).", error.TrimEnd(), StringComparison.Ordinal);
        Assert.DoesNotContain("running berth dev", error, StringComparison.Ordinal);
        Assert.Equal(3, _admin.Requests.Count);
        Assert.Equal(ExitCodes.Success, exit);
    }

    [Fact]
    public async Task Tail_HostEndsEveryStreamAtOnce_WaitsLongerBeforeEachReconnect()
    {
        // A host that says it stops on every stream, right after a heartbeat; noted at the (fake) time of each request.
        var times = new List<DateTimeOffset>();
        using var stop = new CancellationTokenSource();
        _admin.Answer = n =>
        {
            times.Add(_time.GetUtcNow());
            if (n == 8)
            {
                stop.Cancel();
            }

            return $": heartbeat\n\n{HostStoppingEnd}";
        };

        var exit = await RunTickingAsync(stop.Token, "tail", "--host", "http://127.0.0.1:8787");

        // Before: hundreds of reconnects a second, each at once.
        TimeSpan[] waits = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10)];
        Assert.Equal(8, times.Count);
        for (var i = 0; i < waits.Length; i++)
        {
            Assert.True(times[i + 1] - times[i] >= waits[i], $"reconnect {i + 1} came {(times[i + 1] - times[i]).TotalSeconds} s after the stream before it; expected at least {waits[i].TotalSeconds} s");
        }

        Assert.Equal(ExitCodes.Interrupted, exit);
    }

    [Theory]
    [InlineData(0, 0, 1)]
    [InlineData(1, 0, 2)]
    [InlineData(4, 29, 8)]
    [InlineData(8, 0, 10)]
    [InlineData(10, 0, 10)]
    [InlineData(10, 30, 1)]
    public void NextTailBackoff_PreviousAndHowLongTheStreamLasted_DoublesToTenSecondsAndResets(int previousSeconds, int lastedSeconds, int expectedSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), BerthCli.NextTailBackoff(TimeSpan.FromSeconds(previousSeconds), TimeSpan.FromSeconds(lastedSeconds)));

    [Fact]
    public async Task Tail_HostSendsAnEndlessLine_StopsAtTheCapWithHostError()
    {
        // "event: log", then "data: " and 64 MiB without a newline (endless, as far as berth can tell).
        var endless = new EndlessLineStream(Encoding.ASCII.GetBytes("event: log\ndata: "), 64 * 1024 * 1024);
        _admin.Content = () => new StreamContent(endless);

        var exit = await RunAsync("tail");

        // Before: the whole line was read into memory, then refused as a record berth cannot read.
        Assert.Equal(ExitCodes.HostError, exit);
        Assert.Contains($"The host sent a line longer than {AdminClient.MaxLogLineChars} characters", _err.ToString(), StringComparison.Ordinal);
        Assert.True(endless.Served < 2L * AdminClient.MaxLogLineChars, $"berth read {endless.Served} bytes of the endless line; expected it to stop after about {AdminClient.MaxLogLineChars}");
        Assert.Empty(_out.ToString());
    }

    [Fact]
    public async Task Tail_LongestRecordAHostSends_Printed()
    {
        // A record of the longest message a host keeps (Berth:Logs:MaxMessageChars at most 1 Mi), every character
        // JSON-escaped as \uXXXX: a 6 Mi-character line.
        var message = new string('\u00e9', 1024 * 1024);
        var record = System.Text.Json.JsonSerializer.Serialize(new { time = "2026-03-04T12:00:01Z", source = "stdout", app = "demo", message });
        Assert.True(record.Length > 6 * 1024 * 1024, "the record is not as long as the test means it to be");
        _admin.Body = $"event: log\ndata: {record}\n\n";

        await RunAsync("tail");

        // Before: refused as a line longer than 1 Mi characters, exit 76 on the first stream.
        Assert.DoesNotContain("longer than", _err.ToString(), StringComparison.Ordinal);
        Assert.Contains(message, _out.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a\nb\n", new[] { "a", "b" })]
    [InlineData("a\r\nb\rc", new[] { "a", "b", "c" })]
    [InlineData("\n\nx", new[] { "", "", "x" })]
    public async Task BoundedLineReader_LineEnds_SplitAsServerSentEventsDo(string text, string[] expected)
    {
        // A one-character reader, so a CRLF straddles two reads.
        using var reader = new BoundedLineReader(new OneCharReader(text), 10);
        var lines = new List<string>();
        while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
        {
            lines.Add(line);
        }

        Assert.Equal(expected, lines);
    }

    [Fact]
    public async Task Tail_Json_PrintsTheRecordsAsSent()
    {
        _admin.Body = $"event: log\ndata: {Stdout}\n\n";

        await RunAsync("tail", "--json");

        Assert.Equal(Stdout, _out.ToString().Split('\n')[0]);
    }

    [Theory]
    [InlineData("--source", "stdout")]
    [InlineData("--level", "loud")]
    [InlineData("--tail", "-1")]
    public async Task Tail_BadOption_UsageErrorWithoutRequest(string option, string value)
    {
        Assert.Equal(ExitCodes.Usage, await RunAsync("tail", option, value));

        Assert.Empty(_admin.Requests);
    }

    [Fact]
    public void FormatTailRecord_ErrorOnTerminal_RedAndReset()
    {
        var record = new TailRecord(new DateTimeOffset(2026, 3, 4, 12, 0, 0, TimeSpan.Zero), "platform", "demo", null, null, null, null, "error", "Cat", 7, null, "boom");

        Assert.Equal("\u001b[31m12:00:00.000 - fail | boom\u001b[0m", BerthCli.FormatTailRecord(record, colours: true));
        Assert.Equal("12:00:00.000 - fail | boom", BerthCli.FormatTailRecord(record, colours: false));
    }

    [Fact]
    public void FormatTailRecord_ContainerWritesEscapeSequences_PrintedVisibleNotInterpreted()
    {
        // A tenant's line that would set the terminal's clipboard (OSC 52), clear the screen and overwrite the line with CR.
        var hostile = "ok\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[2J\rfake\u009b31m\ttab";
        var record = new TailRecord(new DateTimeOffset(2026, 3, 4, 12, 0, 0, TimeSpan.Zero), "stdout", "demo", "Web", "0123456789", "a\u001b[8m", null, null, null, null, null, hostile);

        var line = BerthCli.FormatTailRecord(record, colours: false);

        Assert.Equal("12:00:00.000 Web/a^[[8m out | ok^[]52;c;cm0gLXJmIH4=^G^[[2J^Mfake\\u009b31m\ttab", line);
        Assert.DoesNotContain(line, c => char.IsControl(c) && c != '\t');
    }

    [Fact]
    public void FormatLogLine_BidiOverride_PrintedVisible()
    {
        // U+202E (right-to-left override) would show "txt.exe" as "exe.txt"; U+2066 isolates likewise.
        var line = BerthCli.FormatLogLine(new LogEntry(null, "stdout", "file \u202etxt.exe \u2066x\u2069"), timestamps: false);

        Assert.Equal("out | file \\u202etxt.exe \\u2066x\\u2069", line);
    }

    [Fact]
    public void FormatLogLine_ContainerWritesEscapeSequences_PrintedVisible()
    {
        var line = BerthCli.FormatLogLine(new LogEntry(null, "stdout", "\u001b[31mred\u001b[0m"), timestamps: false);

        Assert.Equal("out | ^[[31mred^[[0m", line);
    }

    [Fact]
    public async Task ContainersLogs_Platform_AsksForPlatformRecordsAndShowsThem()
    {
        _admin.Body = """{"time":"2026-03-04T12:00:02+00:00","stream":"platform","text":"Sandbox s ready in 5 ms","level":"information","event":"ContainerObjectReady"}""" + "\n";

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "logs", "Sandbox/s", "--platform"));

        Assert.EndsWith("&platform=true", _admin.Requests.Single(), StringComparison.Ordinal);
        Assert.Equal("2026-03-04T12:00:02.000Z platform information ContainerObjectReady | Sandbox s ready in 5 ms\n", _out.ToString().ReplaceLineEndings("\n"));
    }

    /// <summary>Answers every request with <see cref="Body"/> as an event stream, and records the addresses.</summary>
    private sealed class SseAdmin : HttpMessageHandler
    {
        public string Body { get; set; } = "";

        public List<string> Requests { get; } = [];

        /// <summary>Each request's <c>Authorization</c> header, as sent.</summary>
        public List<string?> Authorizations { get; } = [];

        /// <summary>When set, the token an answer needs: another (or none) is answered 401, as a host that made a new token does.</summary>
        public string? RequiredToken { get; set; }

        /// <summary>How many of the next answers end in a connection reset after their body instead of a clean end.</summary>
        public int ResetAfterBody { get; set; }

        /// <summary>How many of the requests after the first answer find no host listening.</summary>
        public int RefuseRequests { get; set; }

        /// <summary>When set, the body of the n-th request's answer (from 1), or <see langword="null"/> for no host listening; <see cref="Body"/> and <see cref="RefuseRequests"/> are then unused.</summary>
        public Func<int, string?>? Answer { get; set; }

        /// <summary>When set, the content of every answer; the others are then unused.</summary>
        public Func<HttpContent>? Content { get; set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request.RequestUri!.AbsoluteUri);
            Authorizations.Add(request.Headers.Authorization?.ToString());
            if (Content is not null)
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = Content() });
            }

            if (Answer is not null)
            {
                var body = Answer(Requests.Count) ?? throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (127.0.0.1:8787)");
                if (RequiredToken is not null && request.Headers.Authorization?.ToString() != $"Bearer {RequiredToken}")
                {
                    return Task.FromResult(new HttpResponseMessage(HttpStatusCode.Unauthorized)
                    {
                        Content = new StringContent("""{"title":"Unauthorized","status":401,"detail":"Missing or wrong admin token."}""", Encoding.UTF8, "application/problem+json"),
                    });
                }

                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "text/event-stream") });
            }

            if (Requests.Count > 1 && RefuseRequests > 0)
            {
                RefuseRequests--;
                throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (127.0.0.1:8787)");
            }

            HttpContent content = ResetAfterBody-- > 0
                ? new StreamContent(new ResettingStream(Encoding.UTF8.GetBytes(Body)))
                : new StringContent(Body, Encoding.UTF8, "text/event-stream");
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
        }
    }

    /// <summary>Gives its bytes, then fails as a reset connection does.</summary>
    private sealed class ResettingStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Position < Length ? base.ReadAsync(buffer, cancellationToken) : throw new IOException("Connection reset by peer");

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <summary>A reader that gives one character a read.</summary>
    private sealed class OneCharReader(string text) : TextReader
    {
        private int _at;

        public override ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken cancellationToken = default)
        {
            if (_at == text.Length || buffer.Length == 0)
            {
                return ValueTask.FromResult(0);
            }

            buffer.Span[0] = text[_at++];
            return ValueTask.FromResult(1);
        }
    }
}
