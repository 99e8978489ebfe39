using System.Text.Json;
using Berth.Storage;
using Microsoft.Extensions.Options;

namespace Berth.Objects;

/// <summary>Settings for the durable objects hosted by a silo.</summary>
public sealed class DurableObjectOptions
{
    /// <summary>Gets or sets the directory that holds every object's database and the silo's alarm index.</summary>
    /// <value>The default is <c>data</c>, relative to the current directory. Objects live in <c>{DataDirectory}/objects/{class}/{id}.db</c>.</value>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Gets or sets how long an object with no request in flight stays in memory.</summary>
    /// <value>
    /// The default is 2 minutes; at least 1 second. Orleans checks for idle objects once per quantum
    /// (half the timeout, at most 1 minute), so an object deactivates between the timeout and the timeout plus that quantum.
    /// </value>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Gets or sets the largest size one object's database may reach.</summary>
    /// <value>The default is 10 GB (10,000,000,000 bytes); at least 64 KiB.</value>
    public long StorageLimitBytes { get; set; } = ObjectStorageOptions.DefaultMaxSizeBytes;

    /// <summary>Gets or sets how many times a failed alarm handler is retried.</summary>
    /// <value>The default is 6; between 0 and 20.</value>
    public int AlarmMaxRetries { get; set; } = 6;

    /// <summary>Gets or sets the delay before the first retry of a failed alarm; each further retry doubles it.</summary>
    /// <value>The default is 2 seconds; between 1 millisecond and 1 hour.</value>
    public TimeSpan AlarmRetryInitialDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets the serializer options for key-value storage values and typed SQL rows.</summary>
    /// <value>The default is <see cref="JsonSerializerOptions.Web"/>.</value>
    public JsonSerializerOptions StorageJsonOptions { get; set; } = JsonSerializerOptions.Web;
}

internal sealed class DurableObjectOptionsValidator : IValidateOptions<DurableObjectOptions>
{
    public ValidateOptionsResult Validate(string? name, DurableObjectOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add("DurableObjectOptions.DataDirectory is empty; set it to a writable directory.");
        }

        if (options.IdleTimeout < TimeSpan.FromSeconds(1))
        {
            failures.Add($"DurableObjectOptions.IdleTimeout is {options.IdleTimeout}; it must be at least 1 second.");
        }

        if (options.StorageLimitBytes < ObjectStorageOptions.MinMaxSizeBytes)
        {
            failures.Add($"DurableObjectOptions.StorageLimitBytes is {options.StorageLimitBytes}; it must be at least {ObjectStorageOptions.MinMaxSizeBytes} bytes.");
        }

        if (options.AlarmMaxRetries is < 0 or > 20)
        {
            failures.Add($"DurableObjectOptions.AlarmMaxRetries is {options.AlarmMaxRetries}; it must be between 0 and 20.");
        }

        if (options.AlarmRetryInitialDelay < TimeSpan.FromMilliseconds(1) || options.AlarmRetryInitialDelay > TimeSpan.FromHours(1))
        {
            failures.Add($"DurableObjectOptions.AlarmRetryInitialDelay is {options.AlarmRetryInitialDelay}; it must be between 1 millisecond and 1 hour.");
        }

        if (options.StorageJsonOptions is null)
        {
            failures.Add("DurableObjectOptions.StorageJsonOptions is null.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
