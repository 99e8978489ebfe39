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

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
