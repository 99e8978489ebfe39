using Microsoft.Extensions.Logging;

namespace Berth.Hosting.Tests.Support;

/// <summary>Collects formatted log messages and lets a test wait for one explicitly, instead of sleeping.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly Lock _gate = new();
    private readonly List<string> _messages = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>Completes with the first message (already logged or to come) that matches.</summary>
    public Task<string> WaitForAsync(Func<string, bool> match)
    {
        lock (_gate)
        {
            if (_messages.FirstOrDefault(match) is { } existing)
            {
                return Task.FromResult(existing);
            }

            var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, found));
            return found.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private void Add(string message)
    {
        lock (_gate)
        {
            _messages.Add(message);
            foreach (var waiter in _waiters.Where(w => w.Match(message)).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Found.SetResult(message);
            }
        }
    }

    private sealed class Logger(LogCapture capture) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture.Add($"{logLevel}: {formatter(state, exception)}{(exception is null ? "" : $" ({exception.Message})")}");
    }
}
