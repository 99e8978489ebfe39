using Microsoft.Extensions.Options;

namespace Berth.Containers;

/// <summary>How the node fills its warm pools (see <see cref="ContainerClassOptions.PrewarmedInstances"/>).</summary>
public sealed class WarmPoolOptions
{
    /// <summary>Most prewarmed containers created at once on this node, over all classes.</summary>
    /// <value>Defaults to 2. From 1 to 64.</value>
    public int RefillConcurrency { get; set; } = 2;

    /// <summary>Wait before the pool of a class tries again after a prewarmed container failed to create, start or open its ports.</summary>
    /// <value>Defaults to 1 second. Must be positive; doubles after each failure in a row up to <see cref="MaxRetryDelay"/>.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between two failed refills of one class.</summary>
    /// <value>Defaults to 1 minute. Must be at least <see cref="RetryDelay"/>.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the node waits, when it shuts down, for its unclaimed prewarmed containers to be removed.</summary>
    /// <value>Defaults to 10 seconds. Must be positive.</value>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

internal sealed class WarmPoolOptionsValidator : IValidateOptions<WarmPoolOptions>
{
    public ValidateOptionsResult Validate(string? name, WarmPoolOptions options)
    {
        var failures = new List<string>();
        if (options.RefillConcurrency is < 1 or > 64)
        {
            failures.Add($"Berth:WarmPool:RefillConcurrency: '{options.RefillConcurrency}' is not allowed; use an integer from 1 to 64.");
        }

        if (options.RetryDelay <= TimeSpan.Zero)
        {
            failures.Add($"Berth:WarmPool:RetryDelay: '{options.RetryDelay}' is not allowed; use a positive time span.");
        }

        if (options.MaxRetryDelay < options.RetryDelay)
        {
            failures.Add($"Berth:WarmPool:MaxRetryDelay: '{options.MaxRetryDelay}' is not allowed; use at least RetryDelay ({options.RetryDelay}).");
        }

        if (options.ShutdownTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Berth:WarmPool:ShutdownTimeout: '{options.ShutdownTimeout}' is not allowed; use a positive time span.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
