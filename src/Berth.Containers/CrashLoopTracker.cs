namespace Berth.Containers;

/// <summary>
/// Counts a container object's crashes and decides when it is in a crash loop: <see cref="ContainerOptions.CrashLoopThreshold"/>
/// crashes within <see cref="ContainerOptions.CrashLoopWindow"/> block starts for a backoff that starts at
/// <see cref="ContainerOptions.CrashLoopInitialBackoff"/> and doubles with each further crash, up to <see cref="ContainerOptions.CrashLoopMaxBackoff"/>.
/// A crash after a quiet window starts over.
/// </summary>
internal sealed class CrashLoopTracker(ContainerOptions options)
{
    private readonly Queue<DateTimeOffset> _crashes = new();
    private int _level;

    /// <summary>Until when starts are blocked; <see cref="DateTimeOffset.MinValue"/> when they are not.</summary>
    public DateTimeOffset BlockedUntil { get; private set; } = DateTimeOffset.MinValue;

    /// <summary>Crashes within the window, as of the last one.</summary>
    public int RecentCrashes => _crashes.Count;

    /// <summary>Records a crash at <paramref name="now"/>.</summary>
    public void RecordCrash(DateTimeOffset now)
    {
        while (_crashes.TryPeek(out var oldest) && now - oldest > options.CrashLoopWindow)
        {
            _crashes.Dequeue();
        }

        if (_crashes.Count == 0)
        {
            _level = 0;
        }

        _crashes.Enqueue(now);
        if (_crashes.Count >= options.CrashLoopThreshold)
        {
            var ticks = Math.Min(options.CrashLoopInitialBackoff.Ticks * Math.Pow(2, _level), options.CrashLoopMaxBackoff.Ticks);
            BlockedUntil = now + TimeSpan.FromTicks((long)ticks);
            _level++;
        }
    }

    /// <summary>Whether starts are blocked at <paramref name="now"/>.</summary>
    public bool IsBlocked(DateTimeOffset now) => now < BlockedUntil;
}
