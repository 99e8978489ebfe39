using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Berth.Cli;

/// <summary>A container as the admin API lists it.</summary>
/// <param name="Id">The engine's container ID.</param>
/// <param name="Name">The engine's container name.</param>
/// <param name="Class">The container class.</param>
/// <param name="Object">The owning object's ID (64 hex characters).</param>
/// <param name="ObjectName">The object's name (as given to <c>IdFromName</c>) when the host knows it, else <see langword="null"/>.</param>
/// <param name="State">The engine state, lowercase (<c>running</c>, <c>exited</c>, ...).</param>
/// <param name="Image">The image reference.</param>
/// <param name="Version">The image version label.</param>
/// <param name="Created">When the container was created (it is created when its object starts it).</param>
/// <param name="CpuSeconds">CPU used since the container was created, in seconds, for a running container on a metering host; else <see langword="null"/>.</param>
/// <param name="MemoryBytes">Memory in use, in bytes, likewise.</param>
/// <param name="StartedAt">When metering saw it start running, likewise.</param>
/// <remarks>The admin API's JSON is snake_case (<c>object_name</c>); <see cref="LegacyObjectName"/> reads hosts that sent <c>objectName</c>.</remarks>
internal sealed record ContainerInfo(
    string Id, string Name, string Class, string Object,
    [property: JsonPropertyName("object_name")] string? ObjectName,
    string State, string Image, string Version, DateTimeOffset Created,
    [property: JsonPropertyName("cpu_seconds")] double? CpuSeconds = null,
    [property: JsonPropertyName("memory_bytes")] long? MemoryBytes = null,
    [property: JsonPropertyName("started_at")] DateTimeOffset? StartedAt = null)
{
    /// <summary>The object's name as hosts before the snake_case list sent it (<c>objectName</c>); only read, never written.</summary>
    [JsonPropertyName("objectName"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? LegacyObjectName { get; init; }

    /// <summary>This container with a name an older host sent as <c>objectName</c> moved to <see cref="ObjectName"/>.</summary>
    public ContainerInfo Normalized() =>
        LegacyObjectName is { } legacy ? this with { ObjectName = ObjectName ?? legacy, LegacyObjectName = null } : this;
}

/// <summary>One line of a container's log as the admin API streams it with <c>format=ndjson</c>.</summary>
/// <param name="Time">When the engine received the line, or <see langword="null"/> when it did not say.</param>
/// <param name="Stream"><c>stdout</c> or <c>stderr</c>; <c>platform</c> for the platform's records (<c>--platform</c>).</param>
/// <param name="Text">The line, without its line break.</param>
/// <param name="Level">A platform record's level.</param>
/// <param name="Event">A platform record's event name.</param>
internal sealed record LogEntry(DateTimeOffset? Time, string Stream, string Text, string? Level = null, string? Event = null);

/// <summary>One NDJSON line of a streamed exec: output, the exit code, or an error.</summary>
internal sealed record ExecFrame(string? Stream, string? Data, int? ExitCode, ExecError? Error);

/// <summary>Why a streamed exec failed after it began.</summary>
internal sealed record ExecError(string Code, string Message);

/// <summary>What a destroy removed.</summary>
internal sealed record DestroyResult(string Id, string Class, string Object);

/// <summary>How a stopped container ended.</summary>
internal sealed record StopResult(string Id, string Class, string Object, int ExitCode, bool OomKilled);

/// <summary>An admin token and where it came from (<c>from --token</c>, <c>from /app/data/admin-token</c>, ...), for messages.</summary>
internal sealed record ResolvedToken(string Value, string Source);

/// <summary>
/// Calls a running host's admin API (<c>/_berth/admin</c>) and turns every failure into a <see cref="CliException"/>
/// that says what happened and what to try. Each request resolves the token again (<paramref name="resolveToken"/>): a host
/// restarted meanwhile (<c>berth dev</c>'s watch restart) has written a new one.
/// </summary>
internal sealed partial class AdminClient(HttpClient http, Uri host, string hostSource, Func<ResolvedToken> resolveToken, TimeProvider time) : IDisposable
{
    /// <summary>
    /// Longest berth waits for the next byte of a one-shot answer's body once its headers came (list, stop, destroy, usage,
    /// versions, rollouts, deploy, rollback, and any error answer): 60 s; then it gives up with <see cref="ExitCodes.HostUnreachable"/>.
    /// </summary>
    // The host does its work (a stop's grace, up to 15 minutes with --grace and unbounded with
    // Berth:Containers:StopGracePeriod; a deploy's build) before it sends the headers, then writes the whole JSON at once
    // (Results.Json), so a real host never pauses inside a body; waiting for the headers stays unbounded for that reason.
    // Streams (logs, exec, tail) are not read through this and pause as long as their source does.
    internal static readonly TimeSpan AnswerIdleTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Largest JSON answer of the admin API berth reads (list, stop, destroy, versions, deploy, usage): 16 MiB; a larger one is <see cref="ExitCodes.HostError"/>.</summary>
    // The largest a host sends is a container list or a usage report by object or hour: a few hundred bytes a row, so
    // 16 MiB is tens of thousands of rows, not a real host's answer.
    internal const int MaxAnswerBytes = 16 * 1024 * 1024;

    /// <summary>Largest error answer (problem details, or a proxy's page) berth reads to show its detail: 1 MiB; a larger one is reported by its status alone.</summary>
    // A failed build's message is the largest detail a host sends; it is far below this.
    internal const int MaxProblemBytes = 1024 * 1024;

    /// <summary>Longest line of <c>containers logs</c> (NDJSON) and <c>berth tail</c> (Server-Sent Events) berth reads: 8 Mi characters; a longer one stops them (<see cref="ExitCodes.HostError"/>).</summary>
    // The host's longest line: a platform record (--platform; any record of tail) whose message is cut to Berth:Logs:MaxMessageChars (at most
    // 1 Mi characters; a container's own line is cut to 64 Ki when the host reads it from the engine), JSON-escaped to at
    // most 6 characters each (\uXXXX for non-ASCII), so 6 Mi, plus its few short fields.
    internal const int MaxLogLineChars = 8 * 1024 * 1024;

    /// <summary>Longest NDJSON line of <c>containers exec</c> berth reads: 1 Mi characters; a longer one stops it (<see cref="ExitCodes.HostError"/>).</summary>
    // The host writes at most 64 KiB of output a frame (AdminExecWriter), 87,416 characters as base64 in its JSON; the exit
    // and error frames are short. 1 Mi leaves room for a long engine error message.
    internal const int MaxExecLineChars = 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The host as the user gave it, for messages.</summary>
    private string Display => host.OriginalString.TrimEnd('/');

    /// <summary>The app's containers on this host.</summary>
    public async Task<IReadOnlyList<ContainerInfo>> ListAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, "containers", null, cancellationToken);
        var body = await ReadAnswerAsync(response, cancellationToken);
        try
        {
            return [.. (JsonSerializer.Deserialize<List<ContainerInfo>>(body.Span, Json) ?? []).Select(c => c.Normalized())];
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.HostError, $"The host sent a container list berth cannot read ({ex.Message}).");
        }
    }

    /// <summary>
    /// Streams the log of the container of <paramref name="className"/>/<paramref name="objectRef"/> as NDJSON, passing each
    /// line to <paramref name="line"/> as it comes (raw JSON text and its parsed form), until the stream ends or is cancelled.
    /// <paramref name="since"/>, when set, keeps only lines from that instant on; <paramref name="platform"/> adds the platform's records about the object.
    /// </summary>
    public async Task StreamLogsAsync(
        string className, string objectRef, bool follow, int? tail, DateTimeOffset? since, bool platform,
        Func<string, LogEntry, CancellationToken, Task> line, CancellationToken cancellationToken)
    {
        var query = $"?format=ndjson&follow={(follow ? "true" : "false")}{(tail is { } n ? $"&tail={n}" : "")}{(platform ? "&platform=true" : "")}"
            + (since is { } s ? $"&since={Uri.EscapeDataString(s.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture))}" : "");
        using var response = await SendAsync(HttpMethod.Get, $"{ContainerPath(className, objectRef)}/logs{query}", null, cancellationToken);
        using var reader = new BoundedLineReader(new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken)), MaxLogLineChars);
        while (await reader.ReadLineAsync(cancellationToken) is { } text)
        {
            if (text.Length == 0)
            {
                continue;
            }

            LogEntry? entry;
            try
            {
                entry = JsonSerializer.Deserialize<LogEntry>(text, Json);
            }
            catch (JsonException ex)
            {
                throw new CliException(ExitCodes.HostError, $"The host sent a log line berth cannot read ({ex.Message}). Is the host older than this berth?");
            }

            if (entry is null)
            {
                throw new CliException(ExitCodes.HostError, "The host sent an empty log line.");
            }

            await line(text, entry, cancellationToken);
        }
    }

    /// <summary>
    /// Runs <paramref name="command"/> and passes its output to <paramref name="output"/> frame by frame as the host streams it
    /// (<see langword="true"/> for standard error); returns the command's exit code.
    /// </summary>
    public async Task<int> ExecAsync(
        string className, string objectId, IReadOnlyList<string> command, byte[]? stdin, Func<bool, byte[], CancellationToken, Task> output,
        CancellationToken cancellationToken)
    {
        object body = stdin is null ? new { command } : new { command, stdin = Convert.ToBase64String(stdin) };
        using var response = await SendAsync(HttpMethod.Post, $"{ContainerPath(className, objectId)}/exec",
            JsonContent.Create(body, options: Json), cancellationToken);
        using var reader = new BoundedLineReader(new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken)), MaxExecLineChars);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            ExecFrame? frame;
            try
            {
                frame = JsonSerializer.Deserialize<ExecFrame>(line, Json);
            }
            catch (JsonException ex)
            {
                throw new CliException(ExitCodes.HostError, $"The host sent an exec frame berth cannot read ({ex.Message}).");
            }

            switch (frame)
            {
                case { Error: { } error }:
                    throw new CliException(ExitCodes.HostError, $"The exec failed ({error.Code}): {error.Message}");
                case { ExitCode: { } exitCode }:
                    return exitCode;
                case { Stream: "stdout" or "stderr", Data: { } data }:
                    await output(frame.Stream == "stderr", Convert.FromBase64String(data), cancellationToken);
                    break;
                default:
                    throw new CliException(ExitCodes.HostError, "The host sent an exec frame with neither output nor an exit code.");
            }
        }

        throw new CliException(ExitCodes.HostError, "The host ended the exec stream without the command's exit code (did it restart?).");
    }

    /// <summary>Removes a container at once (no grace period) through its object.</summary>
    public async Task<DestroyResult> DestroyAsync(string className, string objectId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Delete, ContainerPath(className, objectId), null, cancellationToken);
        return await ReadAsync<DestroyResult>(response, cancellationToken);
    }

    /// <summary>Stops a container: SIGTERM, then SIGKILL after the grace period.</summary>
    public async Task<StopResult> StopAsync(string className, string objectId, int? graceSeconds, CancellationToken cancellationToken)
    {
        var query = graceSeconds is { } g ? $"?grace={g}" : "";
        using var response = await SendAsync(HttpMethod.Post, $"{ContainerPath(className, objectId)}/stop{query}", null, cancellationToken);
        return await ReadAsync<StopResult>(response, cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose() => http.Dispose();

    private static string ContainerPath(string className, string objectId) =>
        $"containers/{Uri.EscapeDataString(className)}/{Uri.EscapeDataString(objectId)}";

    /// <summary>Sends the request and returns the answer once its headers came (its body is read by the caller, within a cap), or throws for an error status.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        var token = resolveToken();
        using var request = new HttpRequestMessage(method, new Uri(host, $"_berth/admin/{path}")) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Value);
        HttpResponseMessage response;
        try
        {
            // Headers only: HttpClient would buffer a whole body of any size (up to 2 GiB) before berth could refuse it.
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException(ExitCodes.HostUnreachable,
                $"Cannot reach the Berth host at {Display} ({hostSource}): {ex.Message}\n"
                + $"Is the app running (berth dev)? Use --host or ${BerthCli.HostEnvironmentVariable} to point at another address.");
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var (title, detail) = await ReadProblemAsync(response, cancellationToken);
            throw response.StatusCode switch
            {
                HttpStatusCode.Unauthorized => new CliException(ExitCodes.Unauthorized,
                    $"The host at {Display} refused the admin token ({token.Source}). Pass the right one with --token or BERTH_ADMIN_TOKEN, "
                    + "or --data-dir pointing at the app's data directory."),
                HttpStatusCode.Forbidden => new CliException(ExitCodes.Unauthorized, $"The host at {Display} refused the request: {detail}"),
                HttpStatusCode.NotFound when detail.Length == 0 => new CliException(ExitCodes.NotFound,
                    $"{Display} has no Berth admin API (404). Does the app call app.MapBerthAdmin()?"),
                HttpStatusCode.NotFound => new CliException(ExitCodes.NotFound, detail),
                HttpStatusCode.Conflict when title == "Not running" => new CliException(ExitCodes.NotRunning, detail),
                HttpStatusCode.Conflict => new CliException(ExitCodes.Ambiguous, detail),
                HttpStatusCode.BadRequest => new CliException(ExitCodes.Usage, detail),
                HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadGateway or HttpStatusCode.RequestEntityTooLarge
                    => new CliException(ExitCodes.DeployFailed, $"{title}: {detail}"),
                _ => new CliException(ExitCodes.HostError, $"The host answered {(int)response.StatusCode} {response.ReasonPhrase}: {detail}"),
            };
        }
    }

    /// <summary>The <c>title</c> and <c>detail</c> of a problem response, or the raw body, or empty.</summary>
    private async Task<(string Title, string Detail)> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (await ReadBoundedAsync(response, MaxProblemBytes, cancellationToken) is not { } bytes)
        {
            return ("", $"(an error answer larger than {MaxProblemBytes / (1024 * 1024)} MiB, not shown)");
        }

        var body = System.Text.Encoding.UTF8.GetString(bytes.Span);
        if (response.Content.Headers.ContentType is { MediaType: "application/problem+json" or "application/json" })
        {
            try
            {
                using var problem = JsonDocument.Parse(body);
                if (problem.RootElement.ValueKind == JsonValueKind.Object && problem.RootElement.TryGetProperty("detail", out var detail))
                {
                    var title = problem.RootElement.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() ?? "" : "";
                    return (title, detail.GetString() ?? "");
                }
            }
            catch (JsonException)
            {
                // Not a problem document after all: show the body as it is.
            }
        }

        return ("", body.Trim());
    }

    /// <summary>A JSON answer read whole, deserialized.</summary>
    /// <exception cref="CliException">The answer is larger than <see cref="MaxAnswerBytes"/>, empty (<c>null</c>), or not the JSON berth expects (<see cref="ExitCodes.HostError"/>); the connection broke (<see cref="ExitCodes.HostUnreachable"/>).</exception>
    private async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await ReadAnswerAsync(response, cancellationToken);
        try
        {
            return JsonSerializer.Deserialize<T>(body.Span, Json)
                ?? throw new CliException(ExitCodes.HostError, "The host sent an empty answer.");
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.HostError, $"The host sent an answer berth cannot read ({ex.Message}). Is the host older than this berth?");
        }
    }

    /// <summary>The body of a successful answer, at most <see cref="MaxAnswerBytes"/>.</summary>
    /// <exception cref="CliException">The answer is larger (<see cref="ExitCodes.HostError"/>), or the connection broke (<see cref="ExitCodes.HostUnreachable"/>).</exception>
    private async Task<ReadOnlyMemory<byte>> ReadAnswerAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        await ReadBoundedAsync(response, MaxAnswerBytes, cancellationToken)
        ?? throw new CliException(ExitCodes.HostError,
            $"The host sent an answer larger than {MaxAnswerBytes / (1024 * 1024)} MiB; berth stopped reading rather than hold it all in memory. Is it a Berth host?");

    /// <summary>The answer's body, or <see langword="null"/> when it is larger than <paramref name="maxBytes"/> (by its Content-Length, or once that much came).</summary>
    /// <exception cref="CliException">
    /// The connection broke while reading, or no byte came for <see cref="AnswerIdleTimeout"/> (<see cref="ExitCodes.HostUnreachable"/>, as when it breaks before the answer).
    /// </exception>
    private async Task<ReadOnlyMemory<byte>?> ReadBoundedAsync(HttpResponseMessage response, int maxBytes, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > maxBytes)
        {
            return null;
        }

        var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        using var idle = new CancellationTokenSource(AnswerIdleTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, idle.Token);
        try
        {
            using var stream = await response.Content.ReadAsStreamAsync(linked.Token);
            using var body = new MemoryStream();
            int read;
            while ((read = await stream.ReadAsync(chunk, linked.Token)) > 0)
            {
                // Each byte that comes gives the next read its own AnswerIdleTimeout.
                idle.CancelAfter(AnswerIdleTimeout);
                if (body.Length + read > maxBytes)
                {
                    return null;
                }

                body.Write(chunk, 0, read);
            }

            return body.GetBuffer().AsMemory(0, (int)body.Length);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.HostUnreachable,
                $"The host at {Display} began its answer, then sent nothing for {AnswerIdleTimeout.TotalSeconds:0} s; berth stopped waiting. "
                + "Is the host overloaded, or a proxy in front of it holding the answer?");
        }
        catch (IOException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.HostUnreachable, $"The connection to the Berth host broke while it answered: {ex.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Creates a client for <paramref name="host"/> that sends the token <paramref name="resolveToken"/> gives, asked before each request, as a bearer token.</summary>
    /// <param name="host">The host's base address.</param>
    /// <param name="hostSource">Where the address came from (<c>from --host</c>, ...), for messages.</param>
    /// <param name="resolveToken">
    /// Gives the admin token and where it came from; called before every request, so a token file the host rewrote is read
    /// again. May throw <see cref="CliException"/> (no token), which the request then throws.
    /// </param>
    /// <param name="time">The clock of <see cref="AnswerIdleTimeout"/>.</param>
    /// <param name="handler">The HTTP handler to send through; <see langword="null"/> for a socket handler with a 5 s connect timeout.</param>
    public static AdminClient Create(Uri host, string hostSource, Func<ResolvedToken> resolveToken, TimeProvider time, HttpMessageHandler? handler = null)
    {
        var ownsHandler = handler is null;
        handler ??= new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) };

        // No overall timeout: logs --follow and long stop grace periods run until done or Ctrl+C. A one-shot answer's body
        // is bounded by AnswerIdleTimeout instead (ReadBoundedAsync).
        var http = new HttpClient(handler, ownsHandler) { Timeout = Timeout.InfiniteTimeSpan };
        return new AdminClient(http, host, hostSource, resolveToken, time);
    }
}
