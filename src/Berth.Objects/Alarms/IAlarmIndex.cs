namespace Berth.Objects.Alarms;

/// <summary>
/// Where a silo keeps its pending alarms (grain id → due time, Unix milliseconds) so that they outlive the process:
/// the node-local SQLite <see cref="AlarmIndex"/> by default, a table shared by every node in a cluster (Berth.Cluster).
/// Each object's own database stays the source of truth; the index only says whom to wake and when.
/// The <see cref="AlarmScheduler"/> calls <see cref="Upsert"/> and <see cref="Remove"/> under its lock: they must not block for long.
/// </summary>
internal interface IAlarmIndex : IDisposable
{
    /// <summary>Gets where the index lives, for the start-up log line (a file path, or a table name).</summary>
    string Description { get; }

    /// <summary>
    /// Gets a value indicating whether other nodes read and write the same index. When they do, an object may live on another
    /// node than the scheduler that wakes it, and reports back to that node's scheduler instead.
    /// </summary>
    bool IsShared { get; }

    /// <summary>Records that <paramref name="grainId"/> must be woken at <paramref name="dueMs"/> (Unix milliseconds), replacing any earlier entry.</summary>
    void Upsert(string grainId, long dueMs);

    /// <summary>Forgets the pending alarm of <paramref name="grainId"/>, if any.</summary>
    void Remove(string grainId);

    /// <summary>Reads the alarms this node must wake at start: all of them for a node-local index, this node's own for a shared one.</summary>
    Task<IReadOnlyList<(string GrainId, long DueMs)>> LoadAllAsync(CancellationToken cancellationToken);
}
