using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

/// <summary>
/// One line of the live log (<c>GET /_berth/admin/logs</c>): a container's output line or one of the platform's own log records,
/// tagged with the app, class and object. Serialized in snake_case, every field present (<see langword="null"/> when unknown).
/// </summary>
/// <param name="Time">When it was written: the engine's timestamp of a container line, the host's clock for a platform record. Serialized as ISO-8601 UTC (<c>2026-01-02T03:04:05.1234567Z</c>).</param>
/// <param name="Source"><c>stdout</c> or <c>stderr</c> for a container line, <c>platform</c> for the host's own records.</param>
/// <param name="App">The app.</param>
/// <param name="Class">The container class, when the line is about one.</param>
/// <param name="Object">The object's ID (64 hex digits), when known.</param>
/// <param name="ObjectName">The object's name (as given to <c>IdFromName</c>), when it was reached by name.</param>
/// <param name="Container">The engine's container ID, first 12 hex digits, when known.</param>
/// <param name="Level">The platform record's level (<c>trace</c>, <c>debug</c>, <c>information</c>, <c>warning</c>, <c>error</c>, <c>critical</c>); <see langword="null"/> for container lines.</param>
/// <param name="Category">The platform record's logger category.</param>
/// <param name="EventId">The platform record's event ID (see <c>BerthEventIds</c>), when it has one.</param>
/// <param name="Event">The platform record's event name, when it has one.</param>
/// <param name="Message">The line, without its line break, or the record's formatted message.</param>
public sealed record LiveLogRecord(
    [property: JsonPropertyName("time"), JsonConverter(typeof(UtcTimeConverter))] DateTimeOffset Time,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("app")] string? App,
    [property: JsonPropertyName("class")] string? Class,
    [property: JsonPropertyName("object")] string? Object,
    [property: JsonPropertyName("object_name")] string? ObjectName,
    [property: JsonPropertyName("container")] string? Container,
    [property: JsonPropertyName("level")] string? Level,
    [property: JsonPropertyName("category")] string? Category,
    [property: JsonPropertyName("event_id")] int? EventId,
    [property: JsonPropertyName("event")] string? Event,
    [property: JsonPropertyName("message")] string Message)
{
    /// <summary><see cref="Source"/> of the platform's own records.</summary>
    public const string PlatformSource = "platform";

    /// <summary>The <see cref="Level"/> name of <paramref name="level"/>: its name in lower case.</summary>
    public static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "information",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        LogLevel.Critical => "critical",
        _ => "none",
    };

    /// <summary>Estimated bytes the record takes in memory, for the ring's byte bound.</summary>
    internal long EstimatedBytes =>
        128 + 2L * (Message.Length + (Category?.Length ?? 0) + (Class?.Length ?? 0) + (Object?.Length ?? 0) + (ObjectName?.Length ?? 0) + (Event?.Length ?? 0));
}

/// <summary>Writes the time as ISO-8601 UTC with a <c>Z</c>.</summary>
internal sealed class UtcTimeConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
}
