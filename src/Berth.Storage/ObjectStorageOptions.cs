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
}
