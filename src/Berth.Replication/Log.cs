using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Replication;

internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Replication + 1, LogLevel.Information, "Restored the storage of {ObjectKey} to {Bookmark} from the cluster store ({Reason})", EventName = "StorageRestored")]
    public static partial void Restored(ILogger logger, string objectKey, string bookmark, string reason);

    [LoggerMessage(BerthEventIds.Replication + 2, LogLevel.Information, "Snapshot of {ObjectKey}: generation {Generation}, {Bytes} bytes", EventName = "StorageSnapshot")]
    public static partial void Snapshot(ILogger logger, string objectKey, long generation, long bytes);

    [LoggerMessage(BerthEventIds.Replication + 3, LogLevel.Error, "The storage of {ObjectKey} is owned by a newer activation; this activation is fenced", EventName = "StorageFenced")]
    public static partial void Fenced(ILogger logger, string objectKey);

    [LoggerMessage(BerthEventIds.Replication + 4, LogLevel.Warning, "Shipping the storage of {ObjectKey} failed while it closed; its next activation restores the last shipped state", EventName = "StorageCloseShipFailed")]
    public static partial void CloseShipFailed(ILogger logger, Exception exception, string objectKey);

    [LoggerMessage(BerthEventIds.Replication + 5, LogLevel.Information, "Pruned storage history older than {Cutoff:O}: {Rows} row(s)", EventName = "StoragePruned")]
    public static partial void Pruned(ILogger logger, DateTimeOffset cutoff, long rows);

    [LoggerMessage(BerthEventIds.Replication + 6, LogLevel.Warning, "Pruning storage history failed; retrying in {Interval}", EventName = "StoragePruneFailed")]
    public static partial void PruneFailed(ILogger logger, Exception exception, TimeSpan interval);

    [LoggerMessage(BerthEventIds.Replication + 7, LogLevel.Information, "The storage of {ObjectKey} is restored to {Bookmark} as asked by OnNextSessionRestoreBookmarkAsync; history continues in generation {Generation}", EventName = "StoragePointInTimeRestored")]
    public static partial void PointInTimeRestored(ILogger logger, string objectKey, string bookmark, long generation);
}
