using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>
/// Keeps the platform's own log records in the <see cref="PlatformLogBuffer"/> for live logs: time, level, category, event,
/// message, and the class, object, container and app named by the record's values (<c>{ClassName}</c>, <c>{ObjectName}</c>,
/// <c>{ObjectId}</c>, <c>{ContainerId}</c>, <c>{AppName}</c>) or by a logging scope's. Which levels reach it is decided by the
/// normal logging configuration (<c>Logging:LogLevel</c>, or <c>Logging:BerthLive:LogLevel</c> for this provider only).
/// </summary>
[ProviderAlias("BerthLive")]
internal sealed class PlatformLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly PlatformLogBuffer _buffer;
    private readonly TimeProvider _time;
    private readonly int _maxMessageChars;
    private IExternalScopeProvider? _scopes;

    public PlatformLoggerProvider(PlatformLogBuffer buffer, TimeProvider time, IOptions<LiveLogOptions> options)
    {
        _buffer = buffer;
        _time = time;
        _maxMessageChars = options.Value.MaxMessageChars;
    }

    public ILogger CreateLogger(string categoryName) => new PlatformLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    /// <summary>True when <paramref name="text"/> is a durable object ID as Berth writes it: 64 lower-case hex digits.</summary>
    internal static bool IsObjectId(string text) => text.Length == 64 && text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    private sealed class PlatformLogger(PlatformLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => provider._scopes?.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.None)
            {
                return;
            }

            var tags = new Tags();
            provider._scopes?.ForEachScope(static (scope, tags) => tags.Read(scope), tags);
            tags.Read(state);

            var message = formatter(state, exception);
            if (exception is not null)
            {
                message = message.Length == 0 ? exception.ToString() : $"{message}\n{exception}";
            }

            if (message.Length > provider._maxMessageChars)
            {
                message = string.Concat(message.AsSpan(0, provider._maxMessageChars - 1), "…");
            }

            provider._buffer.Add(new LiveLogRecord(
                provider._time.GetUtcNow(), LiveLogRecord.PlatformSource, tags.App, tags.Class, tags.Object, tags.ObjectName, tags.Container,
                LiveLogRecord.LevelName(logLevel), category, eventId.Id == 0 && eventId.Name is null ? null : eventId.Id, eventId.Name, message));
        }
    }

    /// <summary>The class, object, container and app a record names; later values (the record's own) win over earlier (scopes).</summary>
    private sealed class Tags
    {
        public string? App;
        public string? Class;
        public string? Object;
        public string? ObjectName;
        public string? Container;

        public void Read(object? values)
        {
            if (values is not IReadOnlyList<KeyValuePair<string, object?>> pairs)
            {
                return;
            }

            for (var i = 0; i < pairs.Count; i++)
            {
                var (key, value) = pairs[i];
                if (value is not string text || text.Length == 0)
                {
                    continue;
                }

                switch (key)
                {
                    case "ClassName" or "Class":
                        Class = text;
                        break;
                    case "ObjectId":
                        Object = text;
                        break;
                    case "ObjectName" or "Object":
                        // Berth logs the object's name, or its ID when it has none.
                        if (IsObjectId(text))
                        {
                            Object = text;
                        }
                        else
                        {
                            ObjectName = text;
                        }

                        break;
                    case "ContainerId":
                        Container = text.Length > 12 ? text[..12] : text;
                        break;
                    case "AppName" or "App":
                        App = text;
                        break;
                }
            }
        }
    }
}
