using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Berth.Diagnostics;

namespace Berth.Hosting;

/// <summary>
/// The records waiting for one live-log follower: bounded, never blocks a writer. When full, the oldest waiting record is dropped;
/// the reader then gets, before the next record, a platform record (<see cref="DroppedEventName"/>) saying how many were dropped.
/// </summary>
internal sealed class LiveLogQueue
{
    /// <summary>Event name of the marker record that says records were dropped.</summary>
    public const string DroppedEventName = "LiveLogRecordsDropped";

    /// <summary>Event ID of the marker record.</summary>
    public const int DroppedEventId = BerthEventIds.Logs + 1;

    /// <summary>Stands for "time for a heartbeat" in the queue; never counted as dropped, never sent as a record.</summary>
    public static readonly LiveLogRecord Heartbeat = new(DateTimeOffset.UnixEpoch, "heartbeat", null, null, null, null, null, null, null, null, null, "");

    private readonly Channel<LiveLogRecord> _channel;
    private readonly TimeProvider _time;
    private readonly string? _app;
    private long _dropped;
    private long _droppedTotal;

    public LiveLogQueue(int capacity, TimeProvider time, string? app)
    {
        _time = time;
        _app = app;
        _channel = Channel.CreateBounded<LiveLogRecord>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped =>
            {
                if (!ReferenceEquals(dropped, Heartbeat))
                {
                    Interlocked.Increment(ref _dropped);
                    Interlocked.Increment(ref _droppedTotal);
                }
            });
    }

    /// <summary>Records dropped so far because the reader was slow.</summary>
    public long DroppedTotal => Interlocked.Read(ref _droppedTotal);

    /// <summary>Queues <paramref name="record"/> without waiting; drops the oldest waiting record when full.</summary>
    public void Post(LiveLogRecord record) => _channel.Writer.TryWrite(record);

    /// <summary>No more records will come: the reader ends after the waiting ones.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <summary>The records as they come, each drop announced by a marker record before the next one, until completed or cancelled.</summary>
    public async IAsyncEnumerable<LiveLogRecord> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = _channel.Reader;
        while (await reader.WaitToReadAsync(cancellationToken))
        {
            while (reader.TryRead(out var record))
            {
                var dropped = Interlocked.Exchange(ref _dropped, 0);
                if (dropped > 0)
                {
                    yield return new LiveLogRecord(_time.GetUtcNow(), LiveLogRecord.PlatformSource, _app, null, null, null, null, "warning",
                        typeof(LiveLogQueue).FullName, DroppedEventId, DroppedEventName,
                        $"dropped {dropped} log records: this follower read slower than they came (Berth:Logs:FollowerQueue)");
                }

                yield return record;
            }
        }
    }
}
