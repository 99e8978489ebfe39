using System.Text.Json;

namespace Berth.Hosting.Tests;

/// <summary>Reads a live-log SSE stream: the JSON of each <c>event: log</c>, and the comments.</summary>
public sealed class LogsSse(Stream body) : IDisposable
{
    private readonly StreamReader _reader = new(body);

    public List<string> Comments { get; } = [];

    /// <summary>The next <c>log</c> event's record, or <see langword="null"/> at the end of the stream.</summary>
    public async Task<JsonElement?> NextAsync(CancellationToken cancellationToken)
    {
        string? eventName = null;
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith(':'))
            {
                Comments.Add(line);
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                eventName = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && eventName == "log")
            {
                return JsonDocument.Parse(line[6..]).RootElement.Clone();
            }
        }

        return null;
    }

    /// <summary>Reads until a comment line (a heartbeat).</summary>
    public async Task WaitForCommentAsync(CancellationToken cancellationToken)
    {
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith(':'))
            {
                Comments.Add(line);
                return;
            }
        }
    }

    /// <summary>The next record <paramref name="match"/> accepts; fails after <paramref name="within"/>.</summary>
    public async Task<JsonElement> NextMatchingAsync(Func<JsonElement, bool> match, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        while (await NextAsync(timeout.Token) is { } record)
        {
            if (match(record))
            {
                return record;
            }
        }

        throw new InvalidOperationException("The stream ended before the record came.");
    }

    public void Dispose() => _reader.Dispose();
}
