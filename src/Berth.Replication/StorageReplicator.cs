using System.Globalization;
using Berth.Objects;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Berth.Replication;

/// <summary>
/// Cluster storage: each object's SQLite write-ahead log is shipped to PostgreSQL after every call (the output gate), a snapshot
/// starts a new generation every <see cref="ReplicationOptions.SnapshotAfterBytes"/>, and an object activating on a node whose
/// local copy is stale or missing restores it from PostgreSQL first.
/// </summary>
internal sealed class StorageReplicator : IObjectStorageReplicator, IAsyncDisposable
{
    // Scoped by the Orleans service id, as the alarm tables are (SchedulingDatabase): services sharing a database share no storage.
    public StorageReplicator(IOptions<ReplicationOptions> options, IOptions<ClusterOptions> cluster, TimeProvider timeProvider, ILogger<StorageReplicator> logger)
        : this(new ReplicationStore(options.Value.Connection!, cluster.Value.ServiceId), options.Value, timeProvider, logger)
    {
    }

    internal StorageReplicator(ReplicationStore store, ReplicationOptions options, TimeProvider timeProvider, ILogger logger)
    {
        Store = store;
        Options = options;
        TimeProvider = timeProvider;
        Logger = logger;
    }

    internal ReplicationStore Store { get; }

    internal ReplicationOptions Options { get; }

    internal TimeProvider TimeProvider { get; }

    internal ILogger Logger { get; }

    /// <inheritdoc />
    public async Task<IObjectStorageReplica> AttachAsync(string objectKey, string filePath, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(objectKey);
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        filePath = Path.GetFullPath(filePath);
        Directory.CreateDirectory(Path.GetDirectoryName(filePath)!);
        var owner = Guid.NewGuid();
        var head = await Store.ClaimAsync(objectKey, owner, TimeProvider.GetUtcNow(), cancellationToken);
        var replica = new ObjectReplica(this, objectKey, filePath, owner, head.Position);
        if (head.RestoreTo is { } target)
        {
            await RestoreFileAsync(objectKey, filePath, target, cancellationToken);
            await replica.StartGenerationFromFileAsync(cancellationToken);
            Log.PointInTimeRestored(Logger, objectKey, target.ToString(), replica.Position.Generation);
        }
        else if (head.Position.Generation > 0)
        {
            if (LocalMarker.Read(filePath) is not { } marker || marker.Position != head.Position || !marker.MatchesLog(filePath))
            {
                var reason = File.Exists(filePath) ? "stale local copy" : "no local copy";
                await RestoreFileAsync(objectKey, filePath, head.Position, cancellationToken);
                replica.ResetLog();
                Log.Restored(Logger, objectKey, head.Position.ToString(), reason);
            }
            else
            {
                replica.ResumeLog(marker);
            }
        }

        // Generation 0: nothing was ever shipped; a local file (from single-node days) is the base of the first snapshot.
        replica.WriteMarker();
        return replica;
    }

    /// <summary>Replaces the local database (and its log) with the state at <paramref name="point"/>, built in a temporary file first.</summary>
    internal async Task RestoreFileAsync(string objectKey, string filePath, Bookmark point, CancellationToken cancellationToken)
    {
        var temporary = $"{filePath}.restore-{Guid.NewGuid():N}";
        try
        {
            await using (var database = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                await Store.RestoreAsync(objectKey, point, database, cancellationToken);
            }

            LocalMarker.Delete(filePath);
            File.Delete(filePath + "-wal");
            File.Delete(filePath + "-shm");
            File.Move(temporary, filePath, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public ValueTask DisposeAsync() => Store.DisposeAsync();
}

/// <summary>The last shipped point of a local database, kept next to it (<c>{file}.replica</c>) to tell a current copy from a stale one.</summary>
/// <param name="Position">The shipped point the local file holds.</param>
/// <param name="LogOffset">Where the next shipment starts in the write-ahead log (0: a new log).</param>
/// <param name="Salt">The write-ahead log's salts at that offset.</param>
internal sealed record LocalMarker(Bookmark Position, long LogOffset, ulong Salt)
{
    public static string PathOf(string filePath) => filePath + ".replica";

    public static LocalMarker? Read(string filePath)
    {
        try
        {
            var parts = File.ReadAllText(PathOf(filePath)).Split(' ');
            return parts.Length == 4
                ? new LocalMarker(
                    Bookmark.Parse(parts[0]),
                    long.Parse(parts[1], CultureInfo.InvariantCulture),
                    ulong.Parse(parts[2], CultureInfo.InvariantCulture))
                : null;
        }
        catch (Exception e) when (e is IOException or FormatException or ArgumentException or OverflowException)
        {
            return null;
        }
    }

    public static void Delete(string filePath) => File.Delete(PathOf(filePath));

    /// <summary>Tells whether the local write-ahead log ends exactly where the marker says (nothing unshipped, nothing missing).</summary>
    public bool MatchesLog(string filePath)
    {
        var wal = new FileInfo(filePath + "-wal");
        var length = wal.Exists ? wal.Length : 0;
        if (!File.Exists(filePath))
        {
            return false;
        }

        if (LogOffset == 0)
        {
            return length == 0;
        }

        return length == LogOffset && WalFile.ReadCommitted(wal.FullName, LogOffset, Salt) is { Frames.Length: 0 } read && read.Salt == Salt;
    }

    public void Write(string filePath)
    {
        var path = PathOf(filePath);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, string.Create(CultureInfo.InvariantCulture, $"{Position} {LogOffset} {Salt} v1"));
        File.Move(temporary, path, overwrite: true);
    }
}
