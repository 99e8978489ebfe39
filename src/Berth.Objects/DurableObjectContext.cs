using Berth.Storage;

namespace Berth.Objects;

/// <summary>
/// What a durable object knows about itself and the platform: its id, namespace, storage, alarm and
/// lifecycle helpers. Available from <see cref="DurableObject.OnObjectActivateAsync"/> until deactivation.
/// </summary>
public sealed class DurableObjectContext
{
    private readonly DurableObject _owner;
    private readonly DurableObjectRuntime _runtime;
    private readonly string _grainId;
    private readonly string _storagePath;
    private readonly List<Task> _waitUntil = [];
    private ObjectStorage? _storage;
    private IObjectStorageReplica? _replica;
    private Task? _gate;
    private StoredAlarm? _alarmInFlight;
    private bool _alarmRunning;
    private string? _name;
    private bool _nameLoaded;

    internal DurableObjectContext(DurableObject owner, DurableObjectRuntime runtime, GrainId grainId, IGrainFactory grainFactory)
    {
        _owner = owner;
        _runtime = runtime;
        _grainId = grainId.ToString();
        GrainFactory = grainFactory;
        var key = grainId.Key.ToString();
        Id = DurableObjectId.TryParse(key, out var id)
            ? id
            : throw new InvalidOperationException($"'{key}' is not a durable object id; reach objects through DurableObjectNamespace<T>.");
        NamespaceName = runtime.ResolveNamespace(owner.GetType(), Id);
        _storagePath = Path.Combine(runtime.DataDirectory, "objects", owner.GetType().Name, $"{Id}.db");
        StorageKey = $"{owner.GetType().Name}/{Id}";
    }

    /// <summary>Gets the object's id.</summary>
    public DurableObjectId Id { get; }

    /// <summary>
    /// Gets the name the object's id was made from (<see cref="DurableObjectNamespace{TObject}.IdFromName"/>), once a caller that
    /// knew it reached the object; kept in the object's storage, so it survives restarts. Logs and the admin API show it.
    /// </summary>
    /// <value>
    /// <see langword="null"/> for an id from <see cref="DurableObjectNamespace{TObject}.NewUniqueId"/>, and until a call made through
    /// <see cref="DurableObjectNamespace{TObject}.GetByName"/> arrived. A name is only taken when it hashes to this object's id.
    /// </value>
    public string? Name
    {
        get
        {
            if (_name is null && !_nameLoaded)
            {
                _nameLoaded = true;
                _name = HasStorage ? Storage.Get<string>(NameKey) : null;
            }

            return _name;
        }
    }

    /// <summary>Gets the name of the namespace (binding) the object belongs to.</summary>
    public string NamespaceName { get; }

    /// <summary>Gets the object's storage, opening its database on first use; it is closed when the object deactivates.</summary>
    public ObjectStorage Storage => _storage ??= _replica is null
        ? ObjectStorage.Open(_storagePath, _runtime.StorageOptions)
        : _replica.Open(_runtime.StorageOptions);

    /// <summary>Gets the clock objects must use.</summary>
    public TimeProvider TimeProvider => _runtime.TimeProvider;

    /// <summary>Gets the grain factory, to call other objects or grains.</summary>
    public IGrainFactory GrainFactory { get; }

    internal Task? Gate => _gate;

    /// <summary>Gets the replica of the storage in cluster mode (the output gate flushes it after every call), or <see langword="null"/>.</summary>
    internal IObjectStorageReplica? Replica => _replica;

    /// <summary>Gets the object's key in the cluster's durable store: <c>{class}/{id}</c>.</summary>
    internal string StorageKey { get; }

    /// <summary>
    /// Gets a bookmark for the object's storage as it is now, after shipping every transaction committed so far: an opaque string that
    /// <see cref="OnNextSessionRestoreBookmarkAsync"/> accepts for as long as the point stays in the retention window. Bookmarks of one
    /// object sort in history order.
    /// </summary>
    /// <exception cref="NotSupportedException">The node does not run cluster storage (<c>Berth:Cluster:Provider</c> is not <c>postgres</c>).</exception>
    public Task<string> GetCurrentBookmarkAsync(CancellationToken cancellationToken = default) =>
        RequireReplica().GetCurrentBookmarkAsync(cancellationToken);

    /// <summary>Gets the bookmark of the last point of the object's history at or before <paramref name="time"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="time"/> is before the retention window (or before the object's first write), or in the future.</exception>
    /// <exception cref="NotSupportedException">The node does not run cluster storage.</exception>
    public Task<string> GetBookmarkForTimeAsync(DateTimeOffset time, CancellationToken cancellationToken = default) =>
        RequireReplica().GetBookmarkForTimeAsync(time, cancellationToken);

    /// <summary>
    /// Asks that the object's next activation restore its storage to <paramref name="bookmark"/> and continue from there. The restore is
    /// a new point of history, so it can be undone: the returned bookmark is the state just before it. Deactivate the object afterwards
    /// (for example <c>DeactivateOnIdle()</c>) to make it take effect.
    /// </summary>
    /// <returns>The current bookmark (to undo the restore).</returns>
    /// <exception cref="ArgumentException"><paramref name="bookmark"/> is malformed, not this object's, or outside the retention window.</exception>
    /// <exception cref="NotSupportedException">The node does not run cluster storage.</exception>
    public Task<string> OnNextSessionRestoreBookmarkAsync(string bookmark, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(bookmark);
        return RequireReplica().OnNextSessionRestoreBookmarkAsync(bookmark, cancellationToken);
    }

    internal async Task AttachReplicaAsync(IObjectStorageReplicator replicator, CancellationToken cancellationToken) =>
        _replica = await replicator.AttachAsync(StorageKey, _storagePath, cancellationToken);

    private IObjectStorageReplica RequireReplica() => _replica
        ?? throw new NotSupportedException("Bookmarks and point-in-time recovery need cluster storage (Berth:Cluster:Provider = postgres).");

    private const string NameKey = "_berth/name";

    /// <summary>Takes the name a caller carried (<see cref="DurableObjectNamespace{TObject}.Get"/>) when it is this object's: a name that hashes to another id is ignored.</summary>
    internal void LearnName(string name)
    {
        if (Name is not null || name.Length > MaxNameLength || !DurableObjectId.FromName(NamespaceName, name).Equals(Id))
        {
            return;
        }

        _name = name;
        Storage.Put(NameKey, name);
    }

    /// <summary>Longest name kept (characters); a longer one is still an address, only not remembered.</summary>
    internal const int MaxNameLength = 1024;

    private bool HasStorage => _storage is not null || File.Exists(_storagePath);

    /// <summary>Gets the time the alarm will fire next, or <see langword="null"/>. Inside the alarm handler the running alarm is not reported.</summary>
    public DateTimeOffset? GetAlarm()
    {
        if (!HasStorage)
        {
            return null;
        }

        var stored = Storage.GetAlarmRecord();
        return _alarmRunning && stored == _alarmInFlight ? null : stored?.Time;
    }

    /// <summary>Sets the object's one alarm (replacing any other) to fire at <paramref name="time"/>, with millisecond precision. A time in the past fires at once.</summary>
    /// <remarks>The alarm is durable: it is written to the object's database before this returns and fires even after a crash and restart.</remarks>
    public void SetAlarm(DateTimeOffset time)
    {
        Storage.SetAlarm(time);
        _runtime.Alarms.Schedule(_grainId, time);
    }

    /// <summary>Deletes the alarm, if any.</summary>
    public void DeleteAlarm()
    {
        if (HasStorage)
        {
            Storage.DeleteAlarm();
        }

        _runtime.Alarms.Cancel(_grainId);
    }

    /// <summary>
    /// Runs <paramref name="callback"/> while no other call reaches the object, including calls to methods that
    /// Orleans would otherwise interleave (<c>[AlwaysInterleave]</c>). Use it to initialise state in
    /// <see cref="DurableObject.OnObjectActivateAsync"/>. If the callback throws, the object is deactivated and the exception rethrown.
    /// </summary>
    public async Task BlockConcurrencyWhileAsync(Func<Task> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        await BlockConcurrencyWhileAsync(async () =>
        {
            await callback();
            return true;
        });
    }

    /// <inheritdoc cref="BlockConcurrencyWhileAsync(Func{Task})"/>
    public async Task<T> BlockConcurrencyWhileAsync<T>(Func<Task<T>> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (_gate is not null)
        {
            return await callback(); // already blocked by an outer call
        }

        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _gate = released.Task;
        try
        {
            return await callback();
        }
        catch (Exception e)
        {
            Log.BlockFailed(_runtime.Logger, e, _grainId);
            _owner.DeactivateAfterFailure();
            throw;
        }
        finally
        {
            _gate = null;
            released.SetResult();
        }
    }

    /// <summary>Keeps <paramref name="task"/> running in the background: the object waits for it before it deactivates, and a failure is logged.</summary>
    public void WaitUntil(Task task)
    {
        ArgumentNullException.ThrowIfNull(task);
        _waitUntil.RemoveAll(static t => t.IsCompleted);
        _waitUntil.Add(task);
        task.ContinueWith(
            static (t, state) =>
            {
                var (logger, grainId) = ((Microsoft.Extensions.Logging.ILogger, string))state!;
                Log.WaitUntilFailed(logger, t.Exception!.GetBaseException(), grainId);
            },
            (_runtime.Logger, _grainId),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    internal async Task DeliverAlarmAsync(Func<AlarmInvocation, CancellationToken, Task> handler, CancellationToken cancellationToken)
    {
        var stored = HasStorage ? Storage.GetAlarmRecord() : null;
        if (stored is not { } alarm)
        {
            _runtime.Alarms.Cancel(_grainId);
            return;
        }

        var now = TimeProvider.GetUtcNow();
        if (alarm.Time > now)
        {
            _runtime.Alarms.Schedule(_grainId, alarm.Time); // moved later (or a retry that is not due yet)
            return;
        }

        // Arm the next retry before running the handler, so a crash mid-handler still retries.
        var maxRetries = _runtime.Options.AlarmMaxRetries;
        StoredAlarm? retry = alarm.RetryCount < maxRetries
            ? new StoredAlarm(now + _runtime.RetryDelay(alarm.RetryCount + 1), alarm.ScheduledTime, alarm.RetryCount + 1)
            : null;
        if (retry is { } next)
        {
            Storage.SetAlarm(next);
            retry = Storage.GetAlarmRecord(); // as stored, in whole milliseconds, to compare with later reads
            _runtime.Alarms.Schedule(_grainId, next.Time);
        }
        else
        {
            Storage.DeleteAlarm();
            _runtime.Alarms.Cancel(_grainId);
        }

        _alarmInFlight = retry;
        _alarmRunning = true;
        try
        {
            await handler(new AlarmInvocation(alarm.ScheduledTime, alarm.RetryCount), cancellationToken);
        }
        catch (Exception e)
        {
            if (retry is null)
            {
                Log.AlarmDropped(_runtime.Logger, e, _grainId, alarm.RetryCount + 1, alarm.ScheduledTime);
            }
            else if (Storage.GetAlarmRecord() == retry)
            {
                // The retry armed before the handler covers a crash mid-handler; after a failure the backoff
                // counts from the failure, so a slow handler does not eat into it.
                var delay = _runtime.RetryDelay(retry.Value.RetryCount);
                var rearmed = retry.Value with { Time = TimeProvider.GetUtcNow() + delay };
                Storage.SetAlarm(rearmed);
                _runtime.Alarms.Schedule(_grainId, rearmed.Time);
                Log.AlarmRetrying(_runtime.Logger, e, _grainId, alarm.RetryCount + 1, rearmed.RetryCount, maxRetries, delay);
            }

            return; // a new alarm set by the failed handler replaces the retry
        }
        finally
        {
            _alarmRunning = false;
            _alarmInFlight = null;
        }

        if (retry is not null && Storage.GetAlarmRecord() == retry)
        {
            Storage.DeleteAlarm();
            _runtime.Alarms.Cancel(_grainId);
        }
    }

    internal void RestoreAlarm()
    {
        // The object's database is the source of truth; re-index its alarm in case a crash came between the two writes.
        if (HasStorage && Storage.GetAlarmRecord() is { } alarm)
        {
            _runtime.Alarms.Schedule(_grainId, alarm.Time);
        }
    }

    internal async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (_waitUntil.Count > 0)
        {
            await Task.WhenAll(_waitUntil).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    internal void Close()
    {
        _storage?.Dispose();
        _storage = null;
    }

    internal async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (_replica is not { } replica)
        {
            Close();
            return;
        }

        var storage = _storage;
        _storage = null;
        _replica = null;
        await replica.CloseAsync(storage, cancellationToken);
    }
}
