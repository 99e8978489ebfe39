namespace Berth.Egress;

/// <summary>
/// Ends a relayed connection that moved no byte either way for a given time: its <see cref="Token"/> is cancelled.
/// <see cref="Touch"/> (after every read and write) only stores a timestamp; one timer per connection wakes at the
/// deadline of the last stamp and, if bytes moved since, re-arms for what is left. A busy connection so costs one
/// timer wake-up per idle timeout, not a timer change (a lock on the shared timer queue) per read, as re-arming a
/// <see cref="CancellationTokenSource"/> with <c>TryReset</c>/<c>CancelAfter</c> on every read would.
/// </summary>
internal sealed class IdleWatch : IDisposable
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly CancellationTokenSource _cancel;
    private readonly ITimer _timer;
    private long _last;
    private int _idle;

    /// <summary>Starts watching now.</summary>
    /// <param name="time">The clock.</param>
    /// <param name="timeout">How long no byte may move; positive.</param>
    /// <param name="cancellationToken">Also cancels <see cref="Token"/> (the node stops).</param>
    public IdleWatch(TimeProvider time, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _time = time;
        _timeout = timeout;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _last = time.GetTimestamp();

        // Armed only once assigned: the callback re-arms through the field.
        _timer = time.CreateTimer(static s => ((IdleWatch)s!).Check(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timer.Change(timeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Cancelled when the connection went idle (or the caller's token was cancelled).</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>Whether <see cref="Token"/> was cancelled because no byte moved for the timeout.</summary>
    public bool IsIdle => Volatile.Read(ref _idle) != 0;

    /// <summary>Bytes moved: the idle clock starts again. Cheap (one timestamp).</summary>
    public void Touch() => Volatile.Write(ref _last, _time.GetTimestamp());

    private void Check()
    {
        var quiet = _time.GetElapsedTime(Volatile.Read(ref _last));
        try
        {
            if (quiet < _timeout)
            {
                _timer.Change(_timeout - quiet, Timeout.InfiniteTimeSpan);
                return;
            }

            Volatile.Write(ref _idle, 1);
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The connection ended while the timer fired.
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _timer.Dispose();
        _cancel.Dispose();
    }
}
