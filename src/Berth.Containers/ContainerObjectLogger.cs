using System.Collections;
using Microsoft.Extensions.Logging;

namespace Berth.Containers;

/// <summary>
/// <see cref="Container.Logger"/>: the class's logger, with every record inside a scope naming the app, class, object and current
/// container (<c>AppName</c>, <c>ClassName</c>, <c>ObjectId</c>, <c>ObjectName</c>, <c>ContainerId</c>), so a record a container class
/// writes with only its own values (<c>"Model starting for {ObjectId}"</c>) still reaches live logs and scope-aware providers tagged
/// with its class. The values are read at each record: the object's name and its container change over its life.
/// </summary>
internal sealed class ContainerObjectLogger(ILogger inner, Func<ContainerLogScope> scope) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!inner.IsEnabled(logLevel))
        {
            return;
        }

        using (inner.BeginScope(scope()))
        {
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}

/// <summary>The values of a container object's logging scope; <see langword="null"/> ones are left out.</summary>
internal sealed class ContainerLogScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly KeyValuePair<string, object?>[] _values;

    public ContainerLogScope(string appName, string className, string objectId, string? objectName, string? containerId)
    {
        var values = new List<KeyValuePair<string, object?>>(5) { new("AppName", appName), new("ClassName", className), new("ObjectId", objectId) };
        if (objectName is not null)
        {
            values.Add(new("ObjectName", objectName));
        }

        if (containerId is not null)
        {
            values.Add(new("ContainerId", containerId));
        }

        _values = [.. values];
    }

    public int Count => _values.Length;

    public KeyValuePair<string, object?> this[int index] => _values[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_values).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>What a console logger with scopes shows: <c>ClassName:FastApiContainer ObjectId:…</c>.</summary>
    public override string ToString() => string.Join(' ', _values.Select(v => $"{v.Key}:{v.Value}"));
}
