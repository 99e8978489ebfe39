using Berth.Objects;
using Berth.Storage;

namespace Berth.Replication;

/// <summary>
/// One activation's replicated storage: opens the local database without automatic checkpoints and ships its write-ahead log.
/// Flushes are serialized; a fenced replica refuses every further flush.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The semaphore never allocates a wait handle (only WaitAsync is used), so it holds nothing to dispose.")]
internal sealed class ObjectReplica : IObjectStorageReplica
{
    private readonly StorageReplicator _replicator;
    private readonly string _key;
    private readonly string _filePath;
    private readonly Guid _owner;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private ObjectStorage? _storage;
    private long _logOffset;
    private ulong _salt;
    private long _shippedSinceSnapshot;
    private bool _snapshotRequired;
    private bool _fenced;

    public ObjectReplica(StorageReplicator replicator, string key, string filePath, Guid owner, Bookmark position)
    {
        _replicator = replicator;
        _key = key;
        _filePath = filePath;
        _owner = owner;
        Position = position;
    }

    /// <summary>Gets the last point shipped (or restored) by this activation.</summary>
    public Bookmark Position { get; private set; }

    private string LogPath => _filePath + "-wal";

    /// <inheritdoc />
    public bool IsFenced => _fenced;

    /// <inheritdoc />
    public ObjectStorage Open(ObjectStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (_storage is not null)
        {
            throw new InvalidOperationException($"The storage of '{_key}' is already open in this activation.");
        }

        _storage = ObjectStorage.Open(_filePath, new ObjectStorageOptions
        {
            MaxSizeBytes = options.MaxSizeBytes,
            JsonSerializerOptions = options.JsonSerializerOptions,
            AutomaticCheckpoints = false,
        });
        return _storage;
    }

    /// <inheritdoc />
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            await FlushLockedAsync(cancellationToken);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <inheritdoc />
    public async Task CloseAsync(ObjectStorage? storage, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            var shipped = false;
            try
            {
                await FlushLockedAsync(cancellationToken);
                shipped = true;
            }
            catch (Exception e)
            {
                Log.CloseShipFailed(_replicator.Logger, e, _key);
            }

            storage?.Dispose(); // SQLite checkpoints the log into the file and deletes it: the file alone holds the shipped point
            _storage = null;
            if (shipped && !_fenced)
            {
                var log = new FileInfo(LogPath);
                if (!log.Exists || log.Length == 0)
                {
                    _logOffset = 0;
                    _salt = 0;
                }

                WriteMarker();
            }
            else
            {
                LocalMarker.Delete(_filePath); // the local copy may be ahead of (or forked from) the store: the next activation restores
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<string> GetCurrentBookmarkAsync(CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        return Position.ToString();
    }

    /// <inheritdoc />
    public async Task<string> GetBookmarkForTimeAsync(DateTimeOffset time, CancellationToken cancellationToken)
    {
        var now = _replicator.TimeProvider.GetUtcNow();
        if (time > now)
        {
            throw new ArgumentOutOfRangeException(nameof(time), time, $"The time is in the future (now is {now:O}).");
        }

        var windowStart = now - _replicator.Options.Retention;
        if (time < windowStart)
        {
            throw new ArgumentOutOfRangeException(nameof(time), time, $"The time is before the retention window ({_replicator.Options.RetentionDays} days, from {windowStart:O}).");
        }

        await FlushAsync(cancellationToken);
        if (await _replicator.Store.PointAtAsync(_key, time, cancellationToken) is { } point)
        {
            return point.ToString();
        }

        // Nothing shipped by then: the object was empty, unless older history was pruned.
        return await _replicator.Store.OldestGenerationAsync(_key, cancellationToken) is null or 1
            ? Bookmark.Empty.ToString()
            : throw new ArgumentOutOfRangeException(nameof(time), time, "The time is before the object's retained history.");
    }

    /// <inheritdoc />
    public async Task<string> OnNextSessionRestoreBookmarkAsync(string bookmark, CancellationToken cancellationToken)
    {
        var point = Bookmark.Parse(bookmark);
        await FlushAsync(cancellationToken);
        if (point.CompareTo(Position) > 0 || !await _replicator.Store.ContainsAsync(_key, point, cancellationToken))
        {
            throw new ArgumentException($"The bookmark {bookmark} is not in the retained history of '{_key}' (outside the {_replicator.Options.RetentionDays}-day window, or another object's).", nameof(bookmark));
        }

        if (!await _replicator.Store.RequestRestoreAsync(_key, _owner, point, _replicator.TimeProvider.GetUtcNow(), cancellationToken))
        {
            throw Fence();
        }

        return Position.ToString();
    }

    /// <summary>Starts a new generation whose snapshot is the local file as it is (used right after a restore, before the database is opened).</summary>
    internal async Task StartGenerationFromFileAsync(CancellationToken cancellationToken)
    {
        await using (var database = File.Exists(_filePath)
            ? new FileStream(_filePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)
            : (Stream)new MemoryStream())
        {
            await StartGenerationAsync(database, PageSizeOf(database), cancellationToken);
        }

        ResetLog();
    }

    internal void ResetLog()
    {
        _logOffset = 0;
        _salt = 0;
    }

    internal void ResumeLog(LocalMarker marker)
    {
        _logOffset = marker.LogOffset;
        _salt = marker.Salt;
    }

    internal void WriteMarker() => new LocalMarker(Position, _logOffset, _salt).Write(_filePath);

    private async Task FlushLockedAsync(CancellationToken cancellationToken)
    {
        if (_fenced)
        {
            throw new StorageFencedException(_key);
        }

        if (_storage is not { } storage)
        {
            return; // never opened by this activation: nothing written
        }

        var read = WalFile.ReadCommitted(LogPath, _logOffset, _salt);
        if (read.Frames.Length == 0 && !_snapshotRequired && Position.Generation > 0)
        {
            return;
        }

        if (Position.Generation == 0 || _snapshotRequired || _shippedSinceSnapshot + read.Frames.Length > _replicator.Options.SnapshotAfterBytes)
        {
            if (read.Frames.Length == 0 && Position.Generation == 0 && !_snapshotRequired && !File.Exists(_filePath))
            {
                return;
            }

            // The checkpoint moves unshipped frames into the file: from here only a snapshot can ship them.
            _snapshotRequired = true;
            if (!storage.Checkpoint())
            {
                if (Position.Generation == 0)
                {
                    throw new InvalidOperationException($"The first snapshot of '{_key}' could not checkpoint its database; retried at the next flush.");
                }

                _snapshotRequired = false; // nothing moved: ship the frames instead
            }
            else
            {
                await using (var database = new FileStream(_filePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
                {
                    await StartGenerationAsync(database, (int)storage.PageSize, cancellationToken);
                }

                _snapshotRequired = false;
                ResetLog();
                WriteMarker();
                return;
            }
        }

        if (!await _replicator.Store.AppendAsync(_key, _owner, Position, read.Frames, _replicator.TimeProvider.GetUtcNow(), cancellationToken))
        {
            throw Fence();
        }

        Position = Position with { Sequence = Position.Sequence + 1 };
        _logOffset = read.EndOffset;
        _salt = read.Salt;
        _shippedSinceSnapshot += read.Frames.Length;
        WriteMarker();
    }

    private async Task StartGenerationAsync(Stream database, int pageSize, CancellationToken cancellationToken)
    {
        var size = database.CanSeek ? database.Length : 0;
        if (!await _replicator.Store.StartGenerationAsync(_key, _owner, Position, database, pageSize, _replicator.TimeProvider.GetUtcNow(), cancellationToken))
        {
            throw Fence();
        }

        Position = new Bookmark(Position.Generation + 1, 0);
        _shippedSinceSnapshot = 0;
        Log.Snapshot(_replicator.Logger, _key, Position.Generation, size);
    }

    private StorageFencedException Fence()
    {
        _fenced = true;
        LocalMarker.Delete(_filePath);
        Log.Fenced(_replicator.Logger, _key);
        return new StorageFencedException(_key);
    }

    // The page size recorded in a SQLite database header (bytes 16-17, big-endian; 1 means 65536); 4096 for an empty file.
    private static int PageSizeOf(Stream database)
    {
        if (database.Length < 100)
        {
            return 4096;
        }

        Span<byte> header = stackalloc byte[2];
        database.Position = 16;
        database.ReadExactly(header);
        database.Position = 0;
        var size = (header[0] << 8) | header[1];
        return size == 1 ? 65536 : size;
    }
}
