using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

/// <summary>
/// Which records a live-log request wants: <c>class=</c> (exact), <c>object=</c> (the object's ID, a prefix of it, or its name),
/// <c>source=</c> (<c>container</c>, <c>platform</c> or <c>all</c>) and <c>level=</c> (platform records at that level or above;
/// container lines have no level, so a <c>level</c> leaves them out).
/// </summary>
internal sealed record LiveLogFilter(string? Class, string? Object, bool Containers, bool Platform, LogLevel? MinLevel)
{
    /// <summary>Allowed values of <c>level=</c>, for messages.</summary>
    public const string AllowedLevels = "trace, debug, information (or info), warning (or warn), error, critical";

    /// <summary>Allowed values of <c>source=</c>, for messages.</summary>
    public const string AllowedSources = "container, platform or all (the default)";

    /// <summary>True when container lines of this class and object are wanted.</summary>
    public bool WantsContainer(string className, string objectId, string? objectName) =>
        Containers && MinLevel is null && (Class is null || Class == className) && ObjectMatches(objectId, objectName);

    /// <summary>True when the platform record is wanted (its object already resolved from its name when it has one).</summary>
    public bool WantsPlatform(LiveLogRecord record) =>
        Platform
        && (MinLevel is not { } min || (ParseLevel(record.Level) is { } level && level >= min))
        && (Class is null || Class == record.Class)
        && (Object is null || ObjectMatches(record.Object, record.ObjectName));

    // A name is exact. An ID prefix counts only for an object that has no name: names are chosen by clients (the URL), so a
    // name such as "b5" must not also match every object whose ID starts with b5.
    private bool ObjectMatches(string? objectId, string? objectName) =>
        Object is null
        || (objectName is not null ? objectName == Object || objectId == Object : objectId is not null && objectId.StartsWith(Object, StringComparison.Ordinal));

    /// <summary>Parses a <c>level=</c> value (see <see cref="AllowedLevels"/>); <see langword="null"/> when it is none of them.</summary>
    public static LogLevel? ParseLevel(string? text) => text?.ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "information" or "info" => LogLevel.Information,
        "warning" or "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "critical" => LogLevel.Critical,
        _ => null,
    };
}
