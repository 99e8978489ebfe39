namespace Berth.Runtime;

/// <summary>One line of a container's output.</summary>
public sealed record LogLine(LogStream Stream, string Text, DateTimeOffset? Timestamp);
