namespace Berth.Runtime;

/// <summary>Which logs to read.</summary>
/// <param name="Follow">Keep reading as new lines arrive, until cancelled or the container exits.</param>
/// <param name="Tail">Number of lines from the end to start with; <see langword="null"/> for all.</param>
/// <param name="Since">Only lines written after this time.</param>
public sealed record LogOptions(bool Follow = false, int? Tail = null, DateTimeOffset? Since = null);
