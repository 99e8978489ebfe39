namespace Berth.Hosting;

/// <summary>
/// The platform's own recent log records (from <see cref="PlatformLoggerProvider"/>), in a ring bounded by
/// <see cref="LiveLogOptions.BufferRecords"/> and <see cref="LiveLogOptions.BufferBytes"/>, and the live followers they are passed to.
/// </summary>
/// <remarks>
/// Adding a record takes a short lock and never waits for a follower: each follower has its own bounded <see cref="LiveLogQueue"/>.
/// </remarks>
internal sealed class PlatformLogBuffer(int maxRecords, long maxBytes)
{
    private readonly Lock _gate = new();
    private readonly Queue<LiveLogRecord> _ring = new();
    private Action<LiveLogRecord>[] _followers = [];
    private long _bytes;

    /// <summary>Creates a buffer with the bounds of <paramref name="options"/>.</summary>
    public PlatformLogBuffer(LiveLogOptions options)
        : this(options.BufferRecords, options.BufferBytes)
    {
    }

    /// <summary>Records in the ring now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _ring.Count;
            }
        }
    }

    /// <summary>Estimated bytes of the records in the ring now.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Keeps <paramref name="record"/> (dropping the oldest beyond the bounds) and passes it to every follower.</summary>
    public void Add(LiveLogRecord record)
    {
        lock (_gate)
        {
            _ring.Enqueue(record);
            _bytes += record.EstimatedBytes;
            while (_ring.Count > maxRecords || (_bytes > maxBytes && _ring.Count > 1))
            {
                _bytes -= _ring.Dequeue().EstimatedBytes;
            }

            // Under the lock, so a follower sees records in order and none twice (Subscribe takes its snapshot under it too).
            foreach (var follower in _followers)
            {
                follower(record);
            }
        }
    }

    /// <summary>The records in the ring, oldest first, that <paramref name="filter"/> accepts.</summary>
    public List<LiveLogRecord> Snapshot(Func<LiveLogRecord, bool>? filter = null)
    {
        lock (_gate)
        {
            return filter is null ? [.. _ring] : [.. _ring.Where(filter)];
        }
    }

    /// <summary>
    /// Passes every record added from now on to <paramref name="follower"/>, which must not block (post to a <see cref="LiveLogQueue"/>),
    /// and returns the records already in the ring, so that the follower sees each record once. Dispose the result to stop.
    /// </summary>
    public IDisposable Subscribe(Action<LiveLogRecord> follower, out List<LiveLogRecord> snapshot)
    {
        lock (_gate)
        {
            snapshot = [.. _ring];
            _followers = [.. _followers, follower];
        }

        return new Subscription(this, follower);
    }

    private void Unsubscribe(Action<LiveLogRecord> follower)
    {
        lock (_gate)
        {
            _followers = [.. _followers.Where(f => !ReferenceEquals(f, follower))];
        }
    }

    private sealed class Subscription(PlatformLogBuffer buffer, Action<LiveLogRecord> follower) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                buffer.Unsubscribe(follower);
            }
        }
    }
}
