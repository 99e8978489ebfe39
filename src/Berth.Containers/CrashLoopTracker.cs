namespace Berth.Containers;

/// <summary>
/// Counts a container object's crashes and decides when it is in a crash loop: <see cref="ContainerOptions.CrashLoopThreshold"/>
/// crashes within <see cref="ContainerOptions.CrashLoopWindow"/>, or as many failed starts in a row (no container became ready
/// between them) however far apart, block starts for a backoff that starts at <see cref="ContainerOptions.CrashLoopInitialBackoff"/>
/// and doubles with each further crash, up to <see cref="ContainerOptions.CrashLoopMaxBackoff"/>. A crash after a quiet window
/// and a ready container start over.
/// </summary>
internal sealed class CrashLoopTracker(ContainerOptions options)
{
    private readonly Queue<DateTimeOffset> _crashes = new();
    private int _level;

    /// <summary>Until when starts are blocked; <see cref="DateTimeOffset.MinValue"/> when they are not.</summary>
    public DateTimeOffset BlockedUntil { get; private set; } = DateTimeOffset.MinValue;

    /// <summary>Crashes within the window, as of the last one.</summary>
    public int RecentCrashes => _crashes.Count;

    /// <summary>Failed starts since a container of the object was last ready.</summary>
    public int FailedStartsInARow { get; private set; }

    /// <summary>Records a crash at <paramref name="now"/>; returns whether it (re)started a backoff.</summary>
    public bool RecordCrash(DateTimeOffset now)
    {
        while (_crashes.TryPeek(out var oldest) && now - oldest > options.CrashLoopWindow)
        {
            _crashes.Dequeue();
        }

        if (_crashes.Count == 0 && FailedStartsInARow == 0)
        {
            _level = 0;
        }

        _crashes.Enqueue(now);
        return _crashes.Count >= options.CrashLoopThreshold && Block(now);
    }

    /// <summary>
    /// Records that a start failed (its crash is recorded by <see cref="RecordCrash"/>); returns whether it started a backoff.
    /// Failed starts count in a row however far apart: one that times out waiting for its port takes
    /// <see cref="ContainerOptions.PortReadyTimeout"/> (30 s by default), so three never fit the default 1-minute window.
    /// </summary>
    public bool RecordFailedStart(DateTimeOffset now)
    {
        FailedStartsInARow++;
        return FailedStartsInARow >= options.CrashLoopThreshold && !IsBlocked(now) && Block(now);
    }

    /// <summary>A container of the object became ready: failed starts no longer follow each other.</summary>
    public void RecordReady() => FailedStartsInARow = 0;

    /// <summary>Whether starts are blocked at <paramref name="now"/>.</summary>
    public bool IsBlocked(DateTimeOffset now) => now < BlockedUntil;

    private bool Block(DateTimeOffset now)
    {
        var ticks = Math.Min(options.CrashLoopInitialBackoff.Ticks * Math.Pow(2, _level), options.CrashLoopMaxBackoff.Ticks);
        BlockedUntil = now + TimeSpan.FromTicks((long)ticks);
        _level++;
        return true;
    }
}
