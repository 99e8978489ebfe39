namespace Berth.Egress;

/// <summary>Connections held now, with a ceiling given at each entry: a slot is taken only while fewer are held. Lock-free.</summary>
internal sealed class ConnectionSlots
{
    private int _held;

    /// <summary>Slots held now.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Takes a slot if fewer than <paramref name="max"/> are held; pair with <see cref="Leave"/>.</summary>
    public bool TryEnter(int max)
    {
        if (Interlocked.Increment(ref _held) <= max)
        {
            return true;
        }

        Interlocked.Decrement(ref _held);
        return false;
    }

    /// <summary>Gives back a slot taken by <see cref="TryEnter"/>.</summary>
    public void Leave() => Interlocked.Decrement(ref _held);
}
