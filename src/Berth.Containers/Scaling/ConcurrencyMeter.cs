namespace Berth.Containers.Scaling;

/// <summary>
/// Counts requests in flight and their time-weighted average between two reads, so that a burst of short requests
/// between two autoscaler ticks still counts (a point sample at the tick would miss it).
/// </summary>
/// <remarks>Thread-safe; <see cref="Enter"/> and <see cref="Exit"/> take a short lock.</remarks>
public sealed class ConcurrencyMeter
{
    private readonly TimeProvider _timeProvider;
    private readonly Lock _gate = new();
    private int _current;
    private long _lastChange;
    private long _periodStart;
    private double _weighted;

    /// <summary>Creates a meter that reads time from <paramref name="timeProvider"/>.</summary>
    public ConcurrencyMeter(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
        _lastChange = _periodStart = timeProvider.GetTimestamp();
    }

    /// <summary>Requests in flight right now.</summary>
    public int Current => Volatile.Read(ref _current);

    /// <summary>Counts one more request in flight; the caller must <see cref="Exit"/> exactly once.</summary>
    public void Enter() => Change(+1);

    /// <summary>Counts one request fewer.</summary>
    public void Exit() => Change(-1);

    /// <summary>
    /// The average number in flight since the previous call (weighted by time; the current count when no time passed),
    /// and starts a new period.
    /// </summary>
    public double TakeAverage()
    {
        lock (_gate)
        {
            var now = _timeProvider.GetTimestamp();
            Accumulate(now);
            var elapsed = _timeProvider.GetElapsedTime(_periodStart, now).TotalSeconds;
            var average = elapsed > 0 ? _weighted / elapsed : _current;
            _weighted = 0;
            _periodStart = now;
            return Math.Max(0, average);
        }
    }

    private void Change(int delta)
    {
        lock (_gate)
        {
            Accumulate(_timeProvider.GetTimestamp());
            _current += delta;
        }
    }

    private void Accumulate(long now)
    {
        _weighted += _current * _timeProvider.GetElapsedTime(_lastChange, now).TotalSeconds;
        _lastChange = now;
    }
}
