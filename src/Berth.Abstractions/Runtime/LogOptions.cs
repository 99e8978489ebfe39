namespace Berth.Runtime;

/// <summary>Which logs to read.</summary>
/// <param name="Follow">Keep reading as new lines arrive, until cancelled or the container exits.</param>
/// <param name="Tail">Number of lines from the end to start with; <see langword="null"/> for all.</param>
/// <param name="Since">Only lines written after this time.</param>
/// <param name="Timestamps">
/// Whether each line carries the engine's time (<see cref="LogLine"/>'s timestamp). Without them a line longer than the
/// engine's 16 KiB log message comes back whole: with them, Docker starts each 16 KiB piece with a time of its own, which
/// cannot be told apart from the container's bytes in the stream, so it stays in the text. Defaults to <see langword="true"/>.
/// </param>
public sealed record LogOptions(bool Follow = false, int? Tail = null, DateTimeOffset? Since = null, bool Timestamps = true);
