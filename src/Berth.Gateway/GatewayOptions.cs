using Microsoft.Extensions.Options;

namespace Berth.Gateway;

/// <summary>Settings of the gateway's data plane.</summary>
public sealed class GatewayOptions
{
    /// <summary>How long a forwarded request may go without sending or receiving a byte.</summary>
    /// <value>Defaults to 100 seconds.</value>
    public TimeSpan RequestActivityTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>How long an upgraded connection (WebSocket) may stay idle; its container does not sleep meanwhile.</summary>
    /// <value>Defaults to 24 hours.</value>
    public TimeSpan UpgradedActivityTimeout { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// The largest request body, in bytes, forwarded to a container; a larger one is answered <c>413 body_too_large</c>
    /// naming the limit (before forwarding when the client declares its length, else when the limit is crossed).
    /// <see langword="null"/> means no limit. A route overrides it with <see cref="GatewayExtensions.WithMaxRequestBodySize"/>.
    /// It replaces Kestrel's own limit (30,000,000 bytes by default) on container routes.
    /// </summary>
    /// <value>Defaults to 104,857,600 bytes (100 MiB), no lower than the seed platform's 100 MB request body limit.</value>
    public long? MaxRequestBodySize { get; set; } = DefaultMaxRequestBodySize;

    /// <summary>The default of <see cref="MaxRequestBodySize"/>: 100 MiB.</summary>
    public const long DefaultMaxRequestBodySize = 100L * 1024 * 1024;
}

internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        if (options.RequestActivityTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Berth:Gateway:RequestActivityTimeout: '{options.RequestActivityTimeout}' is not allowed; use a positive time span.");
        }

        if (options.UpgradedActivityTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Berth:Gateway:UpgradedActivityTimeout: '{options.UpgradedActivityTimeout}' is not allowed; use a positive time span.");
        }

        if (options.MaxRequestBodySize is <= 0)
        {
            failures.Add($"Berth:Gateway:MaxRequestBodySize: '{options.MaxRequestBodySize}' is not allowed; use a positive number of bytes, or null for no limit.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
