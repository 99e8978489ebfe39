namespace Berth.Replication;

/// <summary>
/// Thrown when an object's activation tries to ship to a history that another activation has taken over (a stale writer, for example
/// on a node that was cut off while the object moved). Its writes are not acknowledged; the activation must not continue.
/// </summary>
public sealed class StorageFencedException : Exception
{
    /// <summary>Creates the exception for <paramref name="objectKey"/>.</summary>
    public StorageFencedException(string objectKey)
        : base($"The storage of '{objectKey}' is owned by a newer activation; this activation's writes were not shipped and are not acknowledged.")
    {
        ObjectKey = objectKey;
    }

    /// <summary>Gets the object's key (<c>{class}/{id}</c>).</summary>
    public string ObjectKey { get; }
}
