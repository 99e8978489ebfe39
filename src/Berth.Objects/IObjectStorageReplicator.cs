using Berth.Storage;

namespace Berth.Objects;

/// <summary>
/// Makes an object's storage durable beyond this node (cluster storage, <c>Berth.Replication</c>). Registered as a singleton
/// only in cluster mode; without one, storage is the local SQLite file alone, exactly as on a single node.
/// </summary>
public interface IObjectStorageReplicator
{
    /// <summary>
    /// Called when an object activates, before it runs: takes ownership of the object's history (fencing any older activation)
    /// and makes the local file at <paramref name="filePath"/> current (restoring it from the durable store when it is stale or missing).
    /// </summary>
    /// <param name="objectKey">The object's key in the durable store: <c>{class}/{id}</c>.</param>
    /// <param name="filePath">The local database file.</param>
    /// <param name="cancellationToken">Cancels the attach.</param>
    /// <returns>The replica through which the object opens and ships its storage.</returns>
    Task<IObjectStorageReplica> AttachAsync(string objectKey, string filePath, CancellationToken cancellationToken);
}

/// <summary>One activation's handle on its replicated storage. Not thread-safe beyond what an object's turns need.</summary>
public interface IObjectStorageReplica
{
    /// <summary>Gets whether a newer activation took the object's storage over: this activation can no longer ship and should deactivate.</summary>
    bool IsFenced { get; }

    /// <summary>Opens the local database (already current) with the options the replica needs.</summary>
    ObjectStorage Open(ObjectStorageOptions options);

    /// <summary>Ships every transaction committed since the last flush; returns once the durable store has them (the output gate).</summary>
    /// <exception cref="Exception">Shipping failed: the writes are not acknowledged.</exception>
    Task FlushAsync(CancellationToken cancellationToken);

    /// <summary>Flushes, then closes <paramref name="storage"/> (if opened) and releases the replica.</summary>
    Task CloseAsync(ObjectStorage? storage, CancellationToken cancellationToken);

    /// <summary>See <see cref="DurableObjectContext.GetCurrentBookmarkAsync"/>.</summary>
    Task<string> GetCurrentBookmarkAsync(CancellationToken cancellationToken);

    /// <summary>See <see cref="DurableObjectContext.GetBookmarkForTimeAsync"/>.</summary>
    Task<string> GetBookmarkForTimeAsync(DateTimeOffset time, CancellationToken cancellationToken);

    /// <summary>See <see cref="DurableObjectContext.OnNextSessionRestoreBookmarkAsync"/>.</summary>
    Task<string> OnNextSessionRestoreBookmarkAsync(string bookmark, CancellationToken cancellationToken);
}
