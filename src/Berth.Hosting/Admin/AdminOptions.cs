using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>Settings of the admin API mapped by <see cref="BerthAdminExtensions.MapBerthAdmin"/>; bound from <c>Berth:Admin</c>.</summary>
public sealed class AdminOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Berth:Admin";

    /// <summary>Name of the file, in <see cref="DataDirectory"/>, that holds a generated token.</summary>
    public const string TokenFileName = "admin-token";

    /// <summary>Shortest token accepted in <see cref="Token"/>.</summary>
    public const int MinimumTokenLength = 16;

    /// <summary>Most bytes of standard input an exec request may carry (1 MiB, after base64 decoding).</summary>
    public const int MaxExecStdinBytes = 1024 * 1024;

    /// <summary>Most bytes of JSON a deploy or rollback request may carry (64 KiB).</summary>
    public const int MaxDeployJsonBytes = 64 * 1024;

    /// <summary>Longest grace period a stop may ask for.</summary>
    public static readonly TimeSpan MaxStopGracePeriod = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The bearer token callers must present. When not set, a random token is generated at start and written to
    /// <c>{DataDirectory}/admin-token</c>, readable by the owner only, where the <c>berth</c> CLI finds it.
    /// </summary>
    /// <value>Default: <see langword="null"/> (generated). At least 16 characters when set.</value>
    public string? Token { get; set; }

    /// <summary>Directory for the generated token file; relative paths are resolved against the content root.</summary>
    /// <value>Default: <c>data</c>.</value>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Most bytes of build context (the tar stream) a deploy may upload; it is streamed to the engine, never held in memory whole.</summary>
    /// <value>Default: 536,870,912 (512 MiB). Allowed: 1 MiB–64 GiB.</value>
    public long MaxDeployContextBytes { get; set; } = 512L * 1024 * 1024;
}

internal sealed class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var failures = new List<string>();
        if (options.Token is { Length: < AdminOptions.MinimumTokenLength })
        {
            failures.Add($"Berth:Admin:Token is too short ({options.Token.Length} characters); allowed: at least {AdminOptions.MinimumTokenLength}, or unset to generate one.");
        }

        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add("Berth:Admin:DataDirectory is empty; allowed: a directory path such as 'data'.");
        }

        if (options.MaxDeployContextBytes is < 1024 * 1024 or > 64L * 1024 * 1024 * 1024)
        {
            failures.Add($"Berth:Admin:MaxDeployContextBytes: {options.MaxDeployContextBytes} is not allowed; allowed: 1048576–68719476736 bytes.");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
