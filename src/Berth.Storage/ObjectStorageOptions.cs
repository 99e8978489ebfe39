using System.Text.Json;

namespace Berth.Storage;

/// <summary>Settings for one <see cref="ObjectStorage"/> database.</summary>
public sealed class ObjectStorageOptions
{
    /// <summary>The default per-object limit: 10 GB.</summary>
    public const long DefaultMaxSizeBytes = 10_000_000_000;

    /// <summary>The smallest limit accepted: a few SQLite pages are needed for the schema alone.</summary>
    public const long MinMaxSizeBytes = 64 * 1024;

    /// <summary>Gets or sets the largest size the database may grow to.</summary>
    /// <value>The default is <see cref="DefaultMaxSizeBytes"/> (10 GB); at least <see cref="MinMaxSizeBytes"/>.</value>
    public long MaxSizeBytes { get; set; } = DefaultMaxSizeBytes;

    /// <summary>Gets or sets the serializer options for key-value values and typed SQL rows.</summary>
    /// <value>The default is <see cref="JsonSerializerOptions.Web"/> (camelCase, case-insensitive reads).</value>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = JsonSerializerOptions.Web;

    /// <summary>
    /// Gets or sets whether SQLite checkpoints the write-ahead log into the database file on its own. Cluster storage
    /// (<c>Berth.Replication</c>) turns this off so that the log only grows until it has shipped it; the storage then refuses
    /// <c>PRAGMA wal_checkpoint</c> and <c>PRAGMA wal_autocheckpoint</c> from the SQL API.
    /// </summary>
    /// <value>The default is <see langword="true"/> (SQLite's own automatic checkpoints, every 1,000 pages).</value>
    public bool AutomaticCheckpoints { get; set; } = true;
}
