namespace Berth.Containers.Scaling;

/// <summary>How a wait in a <see cref="PoolHoldQueue"/> ended.</summary>
public enum HoldOutcome
{
    /// <summary>The caller's condition held: it may go on.</summary>
    Admitted,

    /// <summary>The queue already held its most waiters; the caller did not wait.</summary>
    Full,

    /// <summary>The caller waited the queue's whole timeout.</summary>
    TimedOut,

    /// <summary>A <see cref="PoolHoldQueue.Fail"/> woke the caller: nothing will come for it (a start failed).</summary>
    Failed,
}

/// <summary>
/// The requests of a pool that wait for an instance: bounded in count (<see cref="Capacity"/>) and in time
/// (<see cref="Timeout"/>). A waiter re-checks its condition each time <see cref="Release"/> is called; a waiter whose
/// token is cancelled (its client left) leaves at once and is no longer counted.
/// </summary>
public sealed class PoolHoldQueue
{
    private readonly TimeProvider _timeProvider;
    private TaskCompletionSource<bool> _signal = NewSignal();
    private int _waiting;

    /// <summary>Creates a queue.</summary>
    /// <param name="capacity">Most waiters at once; at least 1.</param>
    /// <param name="timeout">Longest wait; positive.</param>
    /// <param name="timeProvider">The clock of the timeout.</param>
    public PoolHoldQueue(int capacity, TimeSpan timeout, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Capacity = capacity;
        Timeout = timeout;
        _timeProvider = timeProvider;
    }

    /// <summary>Most waiters at once.</summary>
    public int Capacity { get; }

    /// <summary>Longest wait.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Requests waiting now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>
    /// Waits until <paramref name="tryAdmit"/> returns <see langword="true"/> (it is called at once and after each
    /// <see cref="Release"/>), the queue is full, the timeout passes or <see cref="Fail"/> is called.
    /// </summary>
    /// <param name="tryAdmit">The caller's condition; it may take what it waits for (it runs once per wake-up).</param>
    /// <param name="cancellationToken">The caller's token (the client's request).</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; the caller left the queue.</exception>
    public async Task<HoldOutcome> WaitAsync(Func<bool> tryAdmit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tryAdmit);
        if (Interlocked.Increment(ref _waiting) > Capacity)
        {
            Interlocked.Decrement(ref _waiting);
            return HoldOutcome.Full;
        }

        try
        {
            using var timeout = new CancellationTokenSource(Timeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            while (true)
            {
                // Read the signal before the condition: a Release after the read completes this very signal.
                var signal = Volatile.Read(ref _signal).Task;
                if (tryAdmit())
                {
                    return HoldOutcome.Admitted;
                }

                try
                {
                    if (!await signal.WaitAsync(linked.Token))
                    {
                        return HoldOutcome.Failed;
                    }
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    return tryAdmit() ? HoldOutcome.Admitted : HoldOutcome.TimedOut;
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    /// <summary>Wakes every waiter to check its condition again (an instance became ready).</summary>
    public void Release() => Interlocked.Exchange(ref _signal, NewSignal()).TrySetResult(true);

    /// <summary>Wakes every waiter with <see cref="HoldOutcome.Failed"/> (the instance they waited for could not start).</summary>
    public void Fail() => Interlocked.Exchange(ref _signal, NewSignal()).TrySetResult(false);

    private static TaskCompletionSource<bool> NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
