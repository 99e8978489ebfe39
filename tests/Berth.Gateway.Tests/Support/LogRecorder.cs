using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Berth.Gateway.Tests;

/// <summary>One log record as the host's logger factory let it through.</summary>
public sealed record LogRecord(string Category, LogLevel Level, EventId EventId, string Message);

/// <summary>A logger provider that keeps every record the host's filter rules let through, for assertions on what a user would see.</summary>
public sealed class LogRecorder : ILoggerProvider
{
    private readonly ConcurrentQueue<LogRecord> _records = new();

    public IReadOnlyList<LogRecord> Records => [.. _records];

    public ILogger CreateLogger(string categoryName) => new Recorder(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Recorder(LogRecorder owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._records.Enqueue(new LogRecord(category, logLevel, eventId, formatter(state, exception) + (exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")));
    }
}
