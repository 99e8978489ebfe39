using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Containers.Tests.Lifecycle;

/// <summary><see cref="Container.Logger"/>: what a container class logs is tagged with its app, class, object and container.</summary>
public sealed class ContainerLoggerTests
{
    [Fact]
    public async Task Logger_RecordNamingOnlyTheObject_ScopeNamesAppClassObjectAndContainer()
    {
        var capture = new ScopeCapture();
        await using var silo = await LifecycleSilo.StartAsync(services: s => s.AddSingleton<ILoggerProvider>(capture));

        var ready = await silo.DriveAsync(silo.Get("alice").EnsureReadyAsync(0), TimeSpan.FromMinutes(1));

        Assert.Equal(ContainerReadyError.None, ready.Error);
        var record = Assert.Single(capture.Records, r => r.Event == "WebHookStarting");
        Assert.Equal(typeof(Web).FullName, record.Category);
        Assert.Equal("unit", record.Scope["AppName"]);
        Assert.Equal(nameof(Web), record.Scope["ClassName"]);
        Assert.Equal(record.State["ObjectId"], record.Scope["ObjectId"]);
        Assert.Matches("^[0-9a-f]{64}$", record.Scope["ObjectId"]);
        Assert.Equal("alice", record.Scope["ObjectName"]);
        Assert.Equal(ready.Endpoint!.ContainerId, record.Scope["ContainerId"]);

        // Berth's own records about the object carry the same scope.
        Assert.Contains(capture.Records, r => r.Event == "ContainerObjectReady" && r.Scope.GetValueOrDefault("ClassName") == nameof(Web));
    }

    private sealed record Captured(string Category, string? Event, IReadOnlyDictionary<string, string?> State, IReadOnlyDictionary<string, string?> Scope);

    /// <summary>Keeps every record with its own values and the values of the scopes around it.</summary>
    private sealed class ScopeCapture : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<Captured> Records { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private static Dictionary<string, string?> Values(object? state, Dictionary<string, string?> into)
        {
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (key, value) in pairs)
                {
                    into[key] = value?.ToString();
                }
            }

            return into;
        }

        private sealed class Logger(ScopeCapture provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => provider._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scope = new Dictionary<string, string?>(StringComparer.Ordinal);
                provider._scopes.ForEachScope(static (s, into) => Values(s, into), scope);
                provider.Records.Enqueue(new Captured(category, eventId.Name, Values(state, new(StringComparer.Ordinal)), scope));
            }
        }
    }
}
