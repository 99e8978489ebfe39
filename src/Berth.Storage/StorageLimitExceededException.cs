namespace Berth.Storage;

/// <summary>Thrown when a write would grow an object's database past its configured limit.</summary>
public sealed class StorageLimitExceededException : Exception
{
    /// <summary>Initializes a new instance naming the database and its limit.</summary>
    public StorageLimitExceededException(string filePath, long limitBytes, Exception? innerException = null)
        : base($"The object storage '{filePath}' reached its size limit of {limitBytes:N0} bytes; the write was rolled back. " +
               "Delete data or raise DurableObjectOptions.StorageLimitBytes.", innerException)
    {
        FilePath = filePath;
        LimitBytes = limitBytes;
    }

    /// <summary>Gets the database file.</summary>
    public string FilePath { get; }

    /// <summary>Gets the limit in bytes.</summary>
    public long LimitBytes { get; }
}
