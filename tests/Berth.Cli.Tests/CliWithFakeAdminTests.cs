using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Cli.Tests;

/// <summary>The CLI's parsing, addressing and output, against a fake admin API (an HTTP handler that records what it is sent).</summary>
public sealed class CliWithFakeAdminTests : IDisposable
{
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();
    private readonly TempDirectory _dir = new();
    private readonly FakeAdmin _admin = new();
    private readonly Dictionary<string, string> _variables = new(StringComparer.Ordinal) { ["BERTH_ADMIN_TOKEN"] = "env-token" };
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 4, 12, 0, 0, TimeSpan.Zero));

    public void Dispose()
    {
        _out.Dispose();
        _err.Dispose();
        _dir.Dispose();
        _admin.Dispose();
    }

    // The dev state these tests write names this process as its berth dev.
    private static bool IsTestProcess(int processId) => processId == Environment.ProcessId;

    private Task<int> RunAsync(params string[] args) => RunAsync(null, args);

    private Task<int> RunAsync(Stream? input, params string[] args) =>
        BerthCli.RunAsync(args, _out, _err, null, null,
            new CliEnvironment(name => _variables.GetValueOrDefault(name), _dir.Path, _time, input, _admin, IsTestProcess), CancellationToken.None);

    private static string ListJson(string? objectName = "session-1", string state = "running") => JsonSerializer.Serialize(new[]
    {
        new
        {
            id = "c0ffee0000000000000000000000000000000000000000000000000000000000",
            name = "berth-demo-node-1-sandbox-aaaa",
            @class = "Sandbox",
            @object = new string('a', 64),
            object_name = objectName,
            state,
            image = "berth-demo-sandbox:abc123",
            version = "abc123",
            created = new DateTimeOffset(2026, 3, 4, 11, 58, 30, TimeSpan.Zero),
        },
    });

    [Fact]
    public async Task Host_NoOptionNoVariableNoDevState_DefaultAddress()
    {
        _admin.Respond(HttpStatusCode.OK, "[]");

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "list"));

        Assert.Equal("http://127.0.0.1:8787/_berth/admin/containers", _admin.Requests.Single().Uri);
    }

    [Fact]
    public async Task Host_BerthHostVariable_UsedOverDevState()
    {
        await WriteDevStateAsync("http://127.0.0.1:9001/", Environment.ProcessId);
        _variables["BERTH_HOST"] = "http://127.0.0.1:9002";
        _admin.Respond(HttpStatusCode.OK, "[]");

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "list"));

        Assert.StartsWith("http://127.0.0.1:9002/", _admin.Requests.Single().Uri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_OptionGiven_WinsOverVariable()
    {
        _variables["BERTH_HOST"] = "http://127.0.0.1:9002";
        _admin.Respond(HttpStatusCode.OK, "[]");

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "list", "--host", "http://127.0.0.1:9003"));

        Assert.StartsWith("http://127.0.0.1:9003/", _admin.Requests.Single().Uri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_RunningDevStateInParentDirectory_AddressAndTokenFileFromIt()
    {
        _variables.Remove("BERTH_ADMIN_TOKEN");
        await WriteDevStateAsync("http://127.0.0.1:9001/", Environment.ProcessId);
        await File.WriteAllTextAsync(Path.Combine(Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName, "admin-token"), "dev-token\n");
        var below = Directory.CreateDirectory(Path.Combine(_dir.Path, "src", "deeper")).FullName;
        _admin.Respond(HttpStatusCode.OK, "[]");

        var exitCode = await BerthCli.RunAsync(["containers", "list"], _out, _err, null, null,
            new CliEnvironment(name => _variables.GetValueOrDefault(name), below, _time, null, _admin, IsTestProcess), CancellationToken.None);

        Assert.Equal(ExitCodes.Success, exitCode);
        Assert.Equal("http://127.0.0.1:9001/_berth/admin/containers", _admin.Requests.Single().Uri);
        Assert.Equal("Bearer dev-token", _admin.Requests.Single().Authorization);
    }

    [Fact]
    public async Task Host_DevStateWithoutToken_ReadsTokenFileInItsDataDirectory()
    {
        _variables.Remove("BERTH_ADMIN_TOKEN");
        var data = Directory.CreateDirectory(Path.Combine(_dir.Path, "elsewhere-data")).FullName;
        await File.WriteAllTextAsync(Path.Combine(data, "admin-token"), "file-token\n");
        await DevState.WriteAsync(_dir.Path, new DevState(new Uri("http://127.0.0.1:9001/"), data, Environment.ProcessId, _time.GetUtcNow()), CancellationToken.None);
        _admin.Respond(HttpStatusCode.OK, "[]");

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "list"));

        Assert.Equal("Bearer file-token", _admin.Requests.Single().Authorization);
    }

    [Fact]
    public async Task Host_DevStateOfEndedProcess_Ignored()
    {
        using var ended = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await ended.WaitForExitAsync();
        await WriteDevStateAsync("http://127.0.0.1:9001/", ended.Id);
        _admin.Respond(HttpStatusCode.OK, "[]");

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "list"));

        Assert.StartsWith("http://127.0.0.1:8787/", _admin.Requests.Single().Uri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_BadBerthHostVariable_UsageErrorNamingIt()
    {
        _variables["BERTH_HOST"] = "ftp://x";

        Assert.Equal(ExitCodes.Usage, await RunAsync("containers", "list"));

        Assert.Equal("berth: $BERTH_HOST 'ftp://x' is not an http(s) address such as http://127.0.0.1:8787.", _err.ToString().Trim());
        Assert.Empty(_admin.Requests);
    }

    [Fact]
    public async Task DevState_WriteThenFind_RoundTripsOwnerOnly()
    {
        var state = new DevState(new Uri("http://127.0.0.1:9001/"), "/data", Environment.ProcessId, _time.GetUtcNow());

        var path = await DevState.WriteAsync(_dir.Path, state, CancellationToken.None);

        Assert.Equal(Path.Combine(_dir.Path, ".berth", "dev.json"), path);
        Assert.Equal(state, DevState.Find(_dir.Path, IsTestProcess, null));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        DevState.Delete(_dir.Path, Environment.ProcessId);
        Assert.Null(DevState.Find(_dir.Path, IsTestProcess, null));
    }

    [Fact]
    public async Task DevState_Write_FileHoldsExactlyTheDocumentedFields()
    {
        // What docs/cli.md lists for .berth/dev.json; a berth dev under watch, so restartsTheApp (computed) would be true.
        var state = new DevState(new Uri("http://127.0.0.1:9001/"), "/data", Environment.ProcessId, _time.GetUtcNow(), Watch: true, Stopping: false);

        var path = await DevState.WriteAsync(_dir.Path, state, CancellationToken.None);

        // Before: it also held "restartsTheApp": true.
        using var written = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        Assert.Equal(
            ["dataDirectory", "host", "processId", "startedAt", "stopping", "watch"],
            written.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task List_Json_PrintsTheContainersAsJson()
    {
        _admin.Respond(HttpStatusCode.OK, ListJson());

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "list", "--json"));

        using var printed = JsonDocument.Parse(_out.ToString());
        var item = Assert.Single(printed.RootElement.EnumerateArray().ToList());
        Assert.Equal("session-1", item.GetProperty("object_name").GetString());
        Assert.False(item.TryGetProperty("objectName", out _));
        Assert.Equal("Sandbox", item.GetProperty("class").GetString());
        Assert.Equal(new string('a', 64), item.GetProperty("object").GetString());
    }

    [Fact]
    public async Task List_Json_KeepsTheMeteringFieldsSnakeCase()
    {
        _admin.Respond(HttpStatusCode.OK, ListJson().Replace("\"created\"", "\"cpu_seconds\":1.5,\"memory_bytes\":2048,\"started_at\":\"2026-03-04T11:58:31Z\",\"created\"", StringComparison.Ordinal));

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "list", "--json"));

        using var printed = JsonDocument.Parse(_out.ToString());
        var item = Assert.Single(printed.RootElement.EnumerateArray().ToList());
        Assert.Equal(1.5, item.GetProperty("cpu_seconds").GetDouble());
        Assert.Equal(2048, item.GetProperty("memory_bytes").GetInt64());
        Assert.Equal(new DateTimeOffset(2026, 3, 4, 11, 58, 31, TimeSpan.Zero), item.GetProperty("started_at").GetDateTimeOffset());
    }

    [Fact]
    public async Task List_OlderHostSendingObjectName_NameStillShownAndPrintedSnakeCase()
    {
        _admin.Respond(HttpStatusCode.OK, ListJson().Replace("\"object_name\"", "\"objectName\"", StringComparison.Ordinal));

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "list"));
        Assert.Contains("Sandbox  session-1  running", _out.ToString(), StringComparison.Ordinal);

        _out.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "list", "--json"));
        var item = JsonDocument.Parse(_out.ToString()).RootElement[0];
        Assert.Equal("session-1", item.GetProperty("object_name").GetString());
        Assert.False(item.TryGetProperty("objectName", out _));
    }

    [Fact]
    public async Task List_Table_ShowsNameStateImageVersionUptime()
    {
        _admin.Respond(HttpStatusCode.OK, ListJson());

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "list"));

        var rows = _out.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)
            .Select(line => System.Text.RegularExpressions.Regex.Split(line, " {2,}")).ToList();
        Assert.Equal(["Sandbox", "session-1", "running", "berth-demo-sandbox:abc123", "abc123", "1m30s", new string('a', 12), "c0ffee000000"], rows[1]);
    }

    [Fact]
    public async Task List_NameWithMarkup_PrintedLiterally()
    {
        _admin.Respond(HttpStatusCode.OK, ListJson(objectName: "[red]x[/]", state: "exited"));

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "list"));

        Assert.Contains("[red]x[/]  exited", _out.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Sandbox/session-1", null, "containers/Sandbox/session-1/logs")]
    [InlineData("Sandbox", "a1b2", "containers/Sandbox/a1b2/logs")]
    [InlineData("Sandbox/team/42", null, "containers/Sandbox/team%2F42/logs")]
    public async Task Logs_Target_AddressesClassAndObject(string target, string? id, string expectedPath)
    {
        _admin.Respond(HttpStatusCode.OK, "");

        Assert.Equal(ExitCodes.Success, await RunAsync(id is null ? ["containers", "logs", target] : ["containers", "logs", target, id]));

        Assert.Equal($"/_berth/admin/{expectedPath}", new Uri(_admin.Requests.Single().Uri).AbsolutePath);
    }

    [Fact]
    public async Task Logs_Lines_TimeAndStreamMarker()
    {
        _admin.Respond(HttpStatusCode.OK, """
            {"time":"2026-03-04T11:59:00.5+00:00","stream":"stdout","text":"hello"}
            {"time":"2026-03-04T11:59:01+00:00","stream":"stderr","text":"oops"}
            {"time":null,"stream":"stdout","text":"no time"}
            """);

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "logs", "Sandbox/s1"));

        Assert.Equal(
            ["2026-03-04T11:59:00.500Z out | hello", "2026-03-04T11:59:01.000Z err | oops", "out | no time"],
            _out.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Logs_Json_PassesLinesThrough()
    {
        const string line = """{"time":"2026-03-04T11:59:00+00:00","stream":"stderr","text":"oops"}""";
        _admin.Respond(HttpStatusCode.OK, line + "\n");

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "logs", "Sandbox/s1", "--json"));

        Assert.Equal(line, _out.ToString().Trim());
    }

    [Theory]
    [InlineData("10m", "2026-03-04T11:50:00.0000000Z")]
    [InlineData("1h30m", "2026-03-04T10:30:00.0000000Z")]
    [InlineData("2d", "2026-03-02T12:00:00.0000000Z")]
    [InlineData("2026-03-01T08:00:00+02:00", "2026-03-01T06:00:00.0000000Z")]
    [InlineData("99999999d", "1970-01-01T00:00:00.0000000Z")] // past TimeSpan's range: from the start, not a crash
    [InlineData("1000000d1s", "1970-01-01T00:00:00.0000000Z")]
    public async Task Logs_Since_SentAsUtcTime(string since, string expected)
    {
        _admin.Respond(HttpStatusCode.OK, "");

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "logs", "Sandbox/s1", "--since", since, "--tail", "5", "-f"));

        var query = new Uri(_admin.Requests.Single().Uri).Query;
        Assert.Equal($"?format=ndjson&follow=true&tail=5&since={Uri.EscapeDataString(expected)}", query);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2026-03-01")]
    [InlineData("2026-03-01T08:00:00")]
    [InlineData("-5m")]
    public async Task Logs_BadSince_UsageErrorListingTheForms(string since)
    {
        Assert.Equal(ExitCodes.Usage, await RunAsync("containers", "logs", "Sandbox/s1", "--since", since));

        Assert.Contains($"--since '{since}' is not allowed; allowed: a duration before now such as 90s", _err.ToString(), StringComparison.Ordinal);
        Assert.Empty(_admin.Requests);
    }

    [Theory]
    [InlineData("logs", "Sandbox/", "The object name or ID is empty.")]
    [InlineData("logs", "Sandbox", "Missing the object after class 'Sandbox'")]
    [InlineData("stop", "/x", "The class in '/x' is empty")]
    [InlineData("destroy", "Sand box/x", "'Sand box' is not a container class name")]
    public async Task Target_Incomplete_UsageErrorWithAdvice(string command, string target, string expected)
    {
        Assert.Equal(ExitCodes.Usage, await RunAsync("containers", command, target));

        Assert.Contains(expected, _err.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("MapBerthAdmin", _err.ToString(), StringComparison.Ordinal);
        Assert.Empty(_admin.Requests);
    }

    [Fact]
    public async Task Target_EmptyId_AdvisesNameOrId()
    {
        Assert.Equal(ExitCodes.Usage, await RunAsync("containers", "logs", "Sandbox", ""));

        Assert.Equal(
            "berth: The object name or ID is empty. Give the object's name (the one the app passes to IdFromName/GetByName), as Sandbox/<name>, or its ID from 'berth containers list'.",
            _err.ToString().Trim());
    }

    [Theory]
    [InlineData("logs", "<target>")]
    [InlineData("stop", "<target>")]
    [InlineData("destroy", "<target>")]
    [InlineData("exec", "<target>")]
    public async Task MissingArgument_NamesTheArgument(string command, string argument)
    {
        Assert.Equal(ExitCodes.Usage, await RunAsync("containers", command));

        Assert.Contains(argument, _err.ToString(), StringComparison.Ordinal);
        Assert.Contains($"Run 'berth containers {command} --help' for usage.", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_NoCommand_NamesTheCommandArgument()
    {
        Assert.Equal(ExitCodes.Usage, await RunAsync("containers", "exec", "Sandbox/s1"));

        Assert.Contains("Missing argument <command>", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_Interactive_SendsStdinAndCommand()
    {
        _admin.Respond(HttpStatusCode.OK, """
            {"stream":"stdout","data":"aGk="}
            {"exitCode":4}
            """);
        using var stdin = new MemoryStream(Encoding.UTF8.GetBytes("echo hi\n"));

        var exitCode = await RunAsync(stdin, "containers", "exec", "-i", "Sandbox/s1", "--", "sh", "-s");

        Assert.Equal(4, exitCode);
        Assert.Equal("hi", _out.ToString());
        var request = _admin.Requests.Single();
        Assert.Equal("/_berth/admin/containers/Sandbox/s1/exec", new Uri(request.Uri).AbsolutePath);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal(["sh", "-s"], body.RootElement.GetProperty("command").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("echo hi\n", Encoding.UTF8.GetString(Convert.FromBase64String(body.RootElement.GetProperty("stdin").GetString()!)));
    }

    [Fact]
    public async Task Exec_StdinTooLarge_UsageErrorBeforeSending()
    {
        using var stdin = new MemoryStream(new byte[BerthCli.MaxStdinBytes + 1]);

        Assert.Equal(ExitCodes.Usage, await RunAsync(stdin, "containers", "exec", "-i", "Sandbox/s1", "--", "cat"));

        Assert.Contains("standard input is larger than 1 MiB", _err.ToString(), StringComparison.Ordinal);
        Assert.Empty(_admin.Requests);
    }

    [Fact]
    public async Task Exec_Tty_RefusedSayingWhy()
    {
        Assert.Equal(ExitCodes.Usage, await RunAsync("containers", "exec", "-it", "Sandbox/s1", "--", "sh"));

        Assert.Contains("exec -t is not supported yet", _err.ToString(), StringComparison.Ordinal);
        Assert.Empty(_admin.Requests);
    }

    [Fact]
    public async Task Stop_Json_PrintsResult()
    {
        _admin.Respond(HttpStatusCode.OK, """{"id":"c1","class":"Sandbox","object":"o1","exitCode":143,"oomKilled":false}""");

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "stop", "Sandbox/s1", "--json"));

        using var printed = JsonDocument.Parse(_out.ToString());
        Assert.Equal(143, printed.RootElement.GetProperty("exitCode").GetInt32());
    }

    [Fact]
    public async Task Unreachable_MessageSaysWhereTheAddressCameFrom()
    {
        _variables["BERTH_HOST"] = "http://127.0.0.1:9002";
        _admin.Fail = new HttpRequestException("Connection refused");

        Assert.Equal(ExitCodes.HostUnreachable, await RunAsync("containers", "list"));

        Assert.StartsWith("berth: Cannot reach the Berth host at http://127.0.0.1:9002 (from $BERTH_HOST): Connection refused", _err.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("containers logs Sandbox/s1 --follow", "{\"time\":null,\"stream\":\"stdout\",\"text\":\"", AdminClient.MaxLogLineChars)]
    [InlineData("containers exec Sandbox/s1 -- cat /dev/zero", "{\"stream\":\"stdout\",\"data\":\"", AdminClient.MaxExecLineChars)]
    public async Task Stream_HostSendsAnEndlessLine_StopsAtTheCapWithHostError(string command, string lineStart, int cap)
    {
        // A line that never ends: 64 MiB without a newline (endless, as far as berth can tell).
        var endless = new EndlessLineStream(Encoding.ASCII.GetBytes(lineStart), 64 * 1024 * 1024);
        _admin.Content = () => new StreamContent(endless);

        var exit = await RunAsync(command.Split(' '));

        // Before: the whole line was read into memory, then refused as a line berth cannot read.
        Assert.Equal(ExitCodes.HostError, exit);
        Assert.Contains($"The host sent a line longer than {cap} characters", _err.ToString(), StringComparison.Ordinal);
        Assert.True(endless.Served < 2L * cap, $"berth read {endless.Served} bytes of the endless line; expected it to stop after about {cap}");
        Assert.Empty(_out.ToString());
    }

    [Fact]
    public async Task Logs_LongestLineAHostSends_Printed()
    {
        // A platform record of the longest message a host keeps (Berth:Logs:MaxMessageChars at most 1 Mi), every character
        // JSON-escaped as \uXXXX: 6 Mi characters on one line.
        var text = new string('\u00e9', 1024 * 1024);
        var line = JsonSerializer.Serialize(new { time = (DateTimeOffset?)null, stream = "platform", text, level = "information", @event = "Big" });
        Assert.True(line.Length > 6 * 1024 * 1024, "the line is not as long as the test means it to be");
        _admin.Content = () => new StringContent(line + "\n", Encoding.UTF8, "application/x-ndjson");

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "logs", "Sandbox/s1", "--follow", "--platform", "--no-timestamps"));

        Assert.Contains(text, _out.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_LargestFrameAHostSends_OutputPassedOn()
    {
        // The host's largest frame: 64 KiB of output (docs/cli.md, "Exec stream").
        var output = new string('y', 64 * 1024);
        _admin.Respond(HttpStatusCode.OK,
            $$"""{"stream":"stdout","data":"{{Convert.ToBase64String(Encoding.ASCII.GetBytes(output))}}"}""" + "\n" + """{"exitCode":0}""" + "\n");

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "exec", "Sandbox/s1", "--", "cat", "big"));

        Assert.Equal(output, _out.ToString());
    }

    [Theory]
    [InlineData("containers list")]
    [InlineData("containers stop Sandbox/s1")]
    [InlineData("containers destroy Sandbox/s1")]
    [InlineData("usage")]
    public async Task Answer_LargerThanTheCap_HostErrorWithoutReadingItAll(string command)
    {
        // No Content-Length: berth finds out as the bytes come.
        var endless = new EndlessLineStream("["u8.ToArray(), 64 * 1024 * 1024);
        _admin.Content = () => new StreamContent(endless);

        var exit = await RunAsync(command.Split(' '));

        // Before: all 64 MiB were buffered, then refused as JSON berth cannot read.
        Assert.Equal(ExitCodes.HostError, exit);
        Assert.Equal("berth: The host sent an answer larger than 16 MiB; berth stopped reading rather than hold it all in memory. Is it a Berth host?", _err.ToString().Trim());
        Assert.True(endless.Served <= AdminClient.MaxAnswerBytes + (128 * 1024), $"berth read {endless.Served} bytes of the answer; expected it to stop after {AdminClient.MaxAnswerBytes}");
    }

    [Fact]
    public async Task Answer_ContentLengthOverTheCap_RefusedBeforeReading()
    {
        var endless = new EndlessLineStream("["u8.ToArray(), 64 * 1024 * 1024);
        _admin.Content = () => new StreamContent(endless) { Headers = { ContentLength = AdminClient.MaxAnswerBytes + 1L } };

        Assert.Equal(ExitCodes.HostError, await RunAsync("containers", "list"));

        Assert.Contains("The host sent an answer larger than 16 MiB", _err.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, endless.Served);
    }

    [Fact]
    public async Task ErrorAnswer_LargerThanTheCap_StatusReportedWithoutTheBody()
    {
        var endless = new EndlessLineStream([], 64 * 1024 * 1024);
        _admin.Respond(HttpStatusCode.InternalServerError, "");
        _admin.Content = () => new StreamContent(endless);

        var exit = await RunAsync("containers", "list");

        // Before: all 64 MiB were read and printed as the error's detail.
        Assert.Equal(ExitCodes.HostError, exit);
        Assert.Equal("berth: The host answered 500 Internal Server Error: (an error answer larger than 1 MiB, not shown)", _err.ToString().Trim());
        Assert.True(endless.Served <= AdminClient.MaxProblemBytes + (128 * 1024), $"berth read {endless.Served} bytes of the error answer; expected it to stop after {AdminClient.MaxProblemBytes}");
    }

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TokenFile_Fifo_RefusedWithoutHanging()
    {
        _variables.Remove("BERTH_ADMIN_TOKEN");
        var token = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName, "admin-token");
        using (var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", ["-m", "600", token]) { UseShellExecute = false })!)
        {
            await mkfifo.WaitForExitAsync().WaitAsync(Bound);
            Assert.Equal(0, mkfifo.ExitCode);
        }

        // Before: reading the FIFO blocked berth until something wrote to it.
        var exit = await Task.Run(() => RunAsync("containers", "list")).WaitAsync(Bound);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Equal(
            $"berth: The admin token file {token} is refused: it is a FIFO. The host writes it as a small regular file; "
            + "point --data-dir at the app's data directory, or pass --token / set BERTH_ADMIN_TOKEN.",
            _err.ToString().Trim());
        Assert.Empty(_admin.Requests);
    }

    [Fact]
    public async Task TokenFile_LargerThan4KiB_RefusedWithoutReadingItAll()
    {
        _variables.Remove("BERTH_ADMIN_TOKEN");
        var token = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName, "admin-token");
        await File.WriteAllTextAsync(token, new string('a', BerthCli.MaxTokenFileBytes + 1));

        Assert.Equal(ExitCodes.Usage, await RunAsync("containers", "list"));

        // Before: read whole and sent as the token, whatever its size.
        Assert.Contains($"The admin token file {token} is refused: it is larger than 4 KiB.", _err.ToString(), StringComparison.Ordinal);
        Assert.Empty(_admin.Requests);
    }

    [Fact]
    public async Task TokenFile_SymlinkToDevZero_RefusedWithoutReadingIt()
    {
        _variables.Remove("BERTH_ADMIN_TOKEN");
        var token = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName, "admin-token");
        File.CreateSymbolicLink(token, "/dev/zero");

        var exit = await Task.Run(() => RunAsync("containers", "list")).WaitAsync(Bound);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains($"The admin token file {token} is refused: it is a symbolic link.", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenFile_LargestAllowed_Sent()
    {
        _variables.Remove("BERTH_ADMIN_TOKEN");
        var token = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName, "admin-token");
        var value = new string('t', BerthCli.MaxTokenFileBytes - 1);
        await File.WriteAllTextAsync(token, value + "\n");
        _admin.Respond(HttpStatusCode.OK, "[]");

        Assert.Equal(ExitCodes.Success, await RunAsync("containers", "list"));

        Assert.Equal($"Bearer {value}", _admin.Requests.Single().Authorization);
    }

    [Theory]
    [InlineData("containers list")]
    [InlineData("containers stop Sandbox/s1")]
    [InlineData("containers destroy Sandbox/s1")]
    [InlineData("usage")]
    [InlineData("versions list --class Api")]
    [InlineData("rollouts status --class Api")]
    [InlineData("deploy --class Api --image my-api:2 --no-wait")]
    public async Task Answer_BodyStallsAfterTheHeaders_GivesUpAfterTheIdleTimeout(string command)
    {
        var stalled = new StallingStream();
        _admin.Content = () => new StreamContent(stalled);

        var run = Task.Run(() => RunAsync(command.Split(' ')));
        await stalled.Reading.Task.WaitAsync(Bound);
        _time.Advance(AdminClient.AnswerIdleTimeout);

        // Before: berth waited for the rest of the answer forever.
        Assert.Equal(ExitCodes.HostUnreachable, await run.WaitAsync(Bound));
        Assert.Equal(
            "berth: The host at http://127.0.0.1:8787 began its answer, then sent nothing for 60 s; berth stopped waiting. "
            + "Is the host overloaded, or a proxy in front of it holding the answer?",
            _err.ToString().Trim());
    }

    [Fact]
    public async Task ErrorAnswer_BodyStallsAfterTheHeaders_GivesUpAfterTheIdleTimeout()
    {
        var stalled = new StallingStream();
        _admin.Respond(HttpStatusCode.InternalServerError, "");
        _admin.Content = () => new StreamContent(stalled);

        var run = Task.Run(() => RunAsync("containers", "list"));
        await stalled.Reading.Task.WaitAsync(Bound);
        _time.Advance(AdminClient.AnswerIdleTimeout);

        Assert.Equal(ExitCodes.HostUnreachable, await run.WaitAsync(Bound));
        Assert.Contains("began its answer, then sent nothing for 60 s", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Answer_EachByteWithinTheIdleTimeout_Read()
    {
        // Slow, not stalled: one part, 59 s, the rest. The bound is between bytes, not on the whole answer.
        var slow = new StallingStream("["u8.ToArray());
        _admin.Content = () => new StreamContent(slow);

        var run = Task.Run(() => RunAsync("containers", "list"));
        await slow.Reading.Task.WaitAsync(Bound);
        _time.Advance(AdminClient.AnswerIdleTimeout - TimeSpan.FromSeconds(1));
        slow.Release("]"u8.ToArray());

        Assert.Equal(ExitCodes.Success, await run.WaitAsync(Bound));
        Assert.Equal("", _err.ToString());
    }

    [Fact]
    public async Task LogsFollow_QuietForLongerThanTheIdleTimeout_KeepsFollowing()
    {
        // A stream (logs -f, exec, tail) pauses as long as its source does: no idle bound.
        var quiet = new StallingStream();
        _admin.Content = () => new StreamContent(quiet);

        var run = Task.Run(() => RunAsync("containers", "logs", "Sandbox/s1", "--follow", "--no-timestamps"));
        await quiet.Reading.Task.WaitAsync(Bound);
        _time.Advance(TimeSpan.FromHours(1));
        quiet.Release("{\"time\":null,\"stream\":\"stdout\",\"text\":\"after an hour\"}\n"u8.ToArray());

        Assert.Equal(ExitCodes.Success, await run.WaitAsync(Bound));
        Assert.Equal("out | after an hour", _out.ToString().Trim());
    }

    /// <summary>
    /// An answer body that gives <paramref name="first"/> (if any), then waits (<see cref="Reading"/> set) until
    /// <see cref="Release"/> gives it the rest, or the read is cancelled; then it ends.
    /// </summary>
    private sealed class StallingStream(byte[]? first = null) : Stream
    {
        private readonly TaskCompletionSource<byte[]> _rest = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private byte[]? _pending = first;
        private bool _released;

        /// <summary>Set once a read waits for the rest.</summary>
        public TaskCompletionSource Reading { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release(byte[] rest) => _rest.TrySetResult(rest);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_pending is null && !_released)
            {
                Reading.TrySetResult();
                _pending = await _rest.Task.WaitAsync(cancellationToken);
                _released = true;
            }

            if (_pending is null)
            {
                return 0;
            }

            var count = Math.Min(buffer.Length, _pending.Length);
            _pending.AsSpan(0, count).CopyTo(buffer.Span);
            _pending = count == _pending.Length ? null : _pending[count..];
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private Task WriteDevStateAsync(string host, int processId) =>
        DevState.WriteAsync(_dir.Path, new DevState(new Uri(host), Path.Combine(_dir.Path, "data"), processId, _time.GetUtcNow()), CancellationToken.None);

    /// <summary>The admin API, faked: records each request and answers with the configured response.</summary>
    private sealed class FakeAdmin : HttpMessageHandler
    {
        private HttpStatusCode _status = HttpStatusCode.OK;
        private string _body = "";

        public List<(string Method, string Uri, string? Authorization, string Body)> Requests { get; } = [];

        public HttpRequestException? Fail { get; set; }

        /// <summary>When set, the body of every answer (with the status of <see cref="Respond"/>) instead of its text.</summary>
        public Func<HttpContent>? Content { get; set; }

        public void Respond(HttpStatusCode status, string body)
        {
            _status = status;
            _body = body;
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
            Requests.Add((request.Method.Method, request.RequestUri!.AbsoluteUri, request.Headers.Authorization?.ToString(), body));
            if (Fail is not null)
            {
                throw Fail;
            }

            return new HttpResponseMessage(_status) { Content = Content?.Invoke() ?? new StringContent(_body, Encoding.UTF8, "application/json") };
        }
    }
}
