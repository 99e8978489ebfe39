using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting.EndToEnd.Tests;

/// <summary>
/// An app directory the way a user has one: <c>berth.jsonc</c> (and whatever it points at) in a temp folder
/// that is the host's content root and data directory.
/// </summary>
public sealed class AppDirectory
{
    public AppDirectory(string? appName = null)
    {
        AppName = appName ?? "e2e-" + Guid.NewGuid().ToString("N")[..10];
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "berth-e2e", AppName);
        Directory.CreateDirectory(Path);
    }

    public string AppName { get; }

    public string Path { get; }

    public string ConfigPath => System.IO.Path.Combine(Path, BerthConfigFile.DefaultFileName);

    public void WriteConfig(string json) => File.WriteAllText(ConfigPath, json);

    public string WriteFile(string relativePath, string content)
    {
        var full = System.IO.Path.Combine(Path, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return full;
    }

    /// <summary>Starts the whole host with this directory as content root, the config file, and a log capture.</summary>
    public Task<BerthTestHost> StartHostAsync(Action<BerthBuilder> configure, Action<WebApplication> map, LogCapture? logs = null) =>
        BerthTestHost.StartAsync(
            berth => configure(berth.UseConfigFile()),
            map,
            appName: AppName,
            dataDirectory: Path,
            configureHost: logs is null ? null : builder => builder.Logging.AddProvider(logs).AddFilter<LogCapture>("Berth", LogLevel.Information));

    /// <summary>Deletes the directory and everything in it.</summary>
    public void Delete() => BerthTestHost.TryDelete(Path);
}

/// <summary>Keeps every log message of a host (Information and up) for assertions.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, int EventId, string Message)> _entries = new();

    public IReadOnlyList<(string Category, int EventId, string Message)> Entries => [.. _entries];

    public IEnumerable<string> MessagesFrom(string category) =>
        _entries.Where(e => e.Category == category).Select(e => e.Message);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                capture._entries.Enqueue((category, eventId.Id, formatter(state, exception)));
            }
        }
    }
}
