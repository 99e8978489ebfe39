using System.Diagnostics.CodeAnalysis;

namespace Berth.Containers;

/// <summary>
/// The gateway's lock-free view of one container: where it listens, how many requests are in
/// flight and when it was last used. The gateway enters and exits the lease on every request
/// without calling the object; the object drains it before putting the container to sleep.
/// </summary>
/// <remarks>
/// Enter increments the in-flight count and then reads the state; drain moves the state and then
/// reads the in-flight count. Both are full fences, so either the request sees the drain and
/// backs off to the object, or the drain sees the request and keeps the container running.
/// </remarks>
public sealed class ContainerLease
{
    private const int Closed = 0;
    private const int Open = 1;
    private const int Draining = 2;

    private readonly TimeProvider _timeProvider;
    private ContainerEndpoint? _endpoint;
    private int _state;
    private int _inFlight;
    private bool _retiring;
    private long _lastActivity;

    internal ContainerLease(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _lastActivity = timeProvider.GetTimestamp();
    }

    /// <summary>Requests being served right now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Where the container listens while the lease is open; <see langword="null"/> when closed. Reading it does not enter the lease.</summary>
    public ContainerEndpoint? Endpoint => Volatile.Read(ref _endpoint);

    /// <summary>Whether requests may enter.</summary>
    public bool IsOpen => Volatile.Read(ref _state) == Open;

    /// <summary>Time since the last request ended (zero while one is in flight).</summary>
    public TimeSpan IdleFor => InFlight > 0 ? TimeSpan.Zero : _timeProvider.GetElapsedTime(Volatile.Read(ref _lastActivity));

    /// <summary>Enters the lease when the container is open; the caller must <see cref="Exit"/> exactly once.</summary>
    public bool TryEnter([NotNullWhen(true)] out ContainerEndpoint? endpoint)
    {
        Interlocked.Increment(ref _inFlight);
        if (Volatile.Read(ref _state) == Open)
        {
            endpoint = Volatile.Read(ref _endpoint)!;
            return true;
        }

        Exit();
        endpoint = null;
        return false;
    }

    /// <summary>
    /// Counts work the object itself does in the container (an exec, a fetch) as in flight whatever the lease's
    /// state, so the container does not sleep under it; the caller must <see cref="Exit"/> exactly once.
    /// </summary>
    internal void Hold() => Interlocked.Increment(ref _inFlight);

    /// <summary>Leaves the lease and renews the activity deadline.</summary>
    public void Exit()
    {
        Touch();
        Interlocked.Decrement(ref _inFlight);
    }

    /// <summary>Renews the activity deadline without a request (a WebSocket message, a start).</summary>
    public void Touch() => Volatile.Write(ref _lastActivity, _timeProvider.GetTimestamp());

    internal void OpenFor(ContainerEndpoint endpoint)
    {
        if (Volatile.Read(ref _retiring))
        {
            // A rollout is replacing the container: no request enters it again.
            return;
        }

        Volatile.Write(ref _endpoint, endpoint);
        Touch();
        Volatile.Write(ref _state, Open);
    }

    /// <summary>Stops new requests from entering when none is in flight; otherwise leaves the lease open.</summary>
    internal bool TryDrain()
    {
        if (Interlocked.CompareExchange(ref _state, Draining, Open) != Open)
        {
            return Volatile.Read(ref _state) != Open;
        }

        if (Volatile.Read(ref _inFlight) == 0)
        {
            return true;
        }

        Volatile.Write(ref _state, Open);
        return false;
    }

    /// <summary>
    /// Stops new requests from entering for good (a rollout replaces the container), whatever is in flight: those finish,
    /// and <see cref="InFlight"/> says when they have.
    /// </summary>
    internal void Retire()
    {
        Volatile.Write(ref _retiring, true);
        Volatile.Write(ref _state, Draining);
    }

    internal void Close()
    {
        Volatile.Write(ref _state, Closed);
        Volatile.Write(ref _endpoint, null);
    }
}
