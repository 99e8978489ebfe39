using System.Text.Json;
using System.Text.Json.Serialization;

namespace Berth.Cli;

/// <summary>One record of the app's live log (<c>GET /_berth/admin/logs</c>; docs/operations.md, "Live logs").</summary>
internal sealed record TailRecord(
    DateTimeOffset Time, string Source, string? App, string? Class, string? Object, string? ObjectName, string? Container,
    string? Level, string? Category, int? EventId, string? Event, string Message);

/// <summary>How a live-log stream ended.</summary>
/// <param name="HostStopping">The host said it ended the stream because it is stopping (<c>event: end</c>, <c>host_stopping</c>); else the stream was cut or just ended.</param>
/// <param name="Alive">Whether anything came before the end (a heartbeat, a record): a host that was serving, not one already on its way down.</param>
internal readonly record struct AppLogStreamEnd(bool HostStopping, bool Alive);

internal sealed partial class AdminClient
{
    private static readonly JsonSerializerOptions TailJson = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The query of <c>GET logs</c> for <c>berth tail</c>'s options.</summary>
    internal static string TailQuery(string? className, string? objectRef, string? source, string? level, int? tail) =>
        "?follow=true"
        + (className is null ? "" : $"&class={Uri.EscapeDataString(className)}")
        + (objectRef is null ? "" : $"&object={Uri.EscapeDataString(objectRef)}")
        + (source is null ? "" : $"&source={Uri.EscapeDataString(source)}")
        + (level is null ? "" : $"&level={Uri.EscapeDataString(level)}")
        + (tail is { } n ? $"&tail={n}" : "");

    /// <summary>
    /// Follows the app's live log (Server-Sent Events), passing each record to <paramref name="record"/> (raw JSON and parsed) as it comes;
    /// returns how the stream ended when the host ends or cuts it, or throws when it cannot be reached or read.
    /// </summary>
    /// <exception cref="CliException">The host could not be reached, refused the request, or sent a record berth cannot read or a line longer than <see cref="MaxLogLineChars"/>.</exception>
    public async Task<AppLogStreamEnd> StreamAppLogsAsync(string query, Func<string, TailRecord, CancellationToken, Task> record, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, "logs" + query, null, cancellationToken);
        using var reader = new BoundedLineReader(new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken)), MaxLogLineChars);
        string? eventName = null;
        var alive = false;
        while (await ReadLineOrEndAsync(reader, cancellationToken) is { } line)
        {
            if (line.StartsWith(':'))
            {
                alive = true;
                continue;
            }

            if (line.Length == 0)
            {
                // An event's end (SSE): the next one names itself.
                eventName = null;
                continue;
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                eventName = line[7..];
                continue;
            }

            if (eventName == "end" && line.StartsWith("data: ", StringComparison.Ordinal))
            {
                // The host's last event (docs/operations.md, "Live logs"); its reason is a fixed word, no need for a parser.
                return new(line.Contains("\"host_stopping\"", StringComparison.Ordinal), alive);
            }

            if (eventName != "log" || !line.StartsWith("data: ", StringComparison.Ordinal))
            {
                // Blank separators, events of other kinds.
                continue;
            }

            var json = line[6..];
            TailRecord? parsed;
            try
            {
                parsed = JsonSerializer.Deserialize<TailRecord>(json, TailJson);
            }
            catch (JsonException ex)
            {
                throw new CliException(ExitCodes.HostError, $"The host sent a log record berth cannot read ({ex.Message}). Is the host older than this berth?");
            }

            if (parsed is null)
            {
                throw new CliException(ExitCodes.HostError, "The host sent an empty log record.");
            }

            alive = true;
            await record(json, parsed, cancellationToken);
        }

        return new(HostStopping: false, alive);
    }

    // A host that stops or restarts may reset the connection instead of ending the stream: that ends it too (the caller
    // reconnects), rather than a stack trace and exit 70.
    private static async Task<string?> ReadLineOrEndAsync(BoundedLineReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadLineAsync(cancellationToken);
        }
        catch (IOException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}

/// <summary>
/// Reads lines (ended by LF, CRLF or CR, as Server-Sent Events allow; NDJSON holds no raw CR, JSON escapes it) of at most a
/// given length, so that a host sending one endless line cannot make berth buffer it all.
/// </summary>
internal sealed class BoundedLineReader(TextReader reader, int maxChars) : IDisposable
{
    private readonly char[] _buffer = new char[4096];
    private readonly System.Text.StringBuilder _line = new();
    private int _start;
    private int _end;
    private bool _skipLineFeed;

    /// <summary>The next line without its end; <see langword="null"/> at the end of the stream.</summary>
    /// <exception cref="CliException">The line is longer than the limit (<see cref="ExitCodes.HostError"/>).</exception>
    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        _line.Clear();
        var any = false;
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await reader.ReadAsync(_buffer, cancellationToken);
                if (_end == 0)
                {
                    return any ? _line.ToString() : null;
                }
            }

            if (_skipLineFeed)
            {
                // The LF of a CRLF that straddled two reads.
                _skipLineFeed = false;
                if (_buffer[_start] == '\n')
                {
                    _start++;
                    continue;
                }
            }

            any = true;
            var span = _buffer.AsSpan(_start, _end - _start);
            var at = span.IndexOfAny('\r', '\n');
            var take = at < 0 ? span.Length : at;
            if (_line.Length + take > maxChars)
            {
                throw new CliException(ExitCodes.HostError,
                    $"The host sent a line longer than {maxChars} characters; berth stopped reading rather than hold it all in memory. Is it a Berth host?");
            }

            _line.Append(span[..take]);
            _start += take;
            if (at < 0)
            {
                continue;
            }

            _start++;
            if (span[at] == '\r')
            {
                if (_start < _end)
                {
                    _start += _buffer[_start] == '\n' ? 1 : 0;
                }
                else
                {
                    _skipLineFeed = true;
                }
            }

            return _line.ToString();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => reader.Dispose();
}
