using System.Collections.Concurrent;

namespace Berth.Hosting;

/// <summary>
/// Whether each container class's image could be had at start-up, for the readiness check: recorded by the
/// start-up image build, read by <see cref="ImagesHealthCheck"/>.
/// </summary>
public sealed class ClassImageStatus
{
    private const string PendingMark = "\0pending";
    private readonly ConcurrentDictionary<string, string?> _classes = new(StringComparer.Ordinal);

    /// <summary>Whether any class was recorded yet (the start-up build has begun).</summary>
    public bool Started => !_classes.IsEmpty;

    /// <summary>Records that <paramref name="className"/>'s image is about to be built or looked up.</summary>
    public void Pending(string className) => _classes[className] = PendingMark;

    /// <summary>Records that <paramref name="className"/>'s image is on the engine.</summary>
    public void Ready(string className) => _classes[className] = null;

    /// <summary>Records that <paramref name="className"/>'s image could not be built or found, and why.</summary>
    public void Failed(string className, string reason) => _classes[className] = reason;

    /// <summary>Every recorded class: its name, and <see langword="null"/> when ready, else the failure or pending state.</summary>
    public IEnumerable<(string ClassName, bool Ready, bool Pending, string? Failure)> Classes =>
        _classes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (
            kv.Key,
            kv.Value is null,
            ReferenceEquals(kv.Value, PendingMark),
            kv.Value is null || ReferenceEquals(kv.Value, PendingMark) ? null : kv.Value));
}
