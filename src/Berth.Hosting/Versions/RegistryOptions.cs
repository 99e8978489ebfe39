using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>The node's image registry (bound from <c>Berth:Registry</c>): where versions are pushed and pulled by digest.</summary>
public sealed class RegistryOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Berth:Registry";

    /// <summary>The registry's <c>host:port</c>, without a scheme; the engine talks plain HTTP to it, which it allows for 127.0.0.1.</summary>
    /// <value>Default: <c>127.0.0.1:5000</c> (the <c>docker-registry</c> that <c>scripts/bootstrap.sh</c> starts).</value>
    public string Address { get; set; } = "127.0.0.1:5000";

    /// <summary>
    /// Whether versions go through the registry. When <see langword="false"/>, or when the registry cannot be reached at
    /// start-up, versions run from the engine's local tag and a warning says so; a deploy then fails instead.
    /// </summary>
    /// <value>Default: <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The registry's config file, passed to <c>docker-registry garbage-collect</c> after image garbage collection deleted
    /// manifests, so their blobs are freed too. Nothing is run when the file or <c>docker-registry</c> is absent.
    /// </summary>
    /// <value>Default: <c>/etc/docker/registry/config.yml</c> (written by <c>scripts/bootstrap.sh</c>).</value>
    public string ConfigFile { get; set; } = "/etc/docker/registry/config.yml";

    /// <summary>How many of a class's newest versions image garbage collection keeps (older ones are removed when no container runs them).</summary>
    /// <value>Default: 5. Allowed: <see cref="MinKeepVersions"/>–<see cref="MaxKeepVersions"/> (1–1000). berth.jsonc's <c>keep_versions</c> sets it.</value>
    public int KeepVersions { get; set; } = 5;

    /// <summary>The fewest versions <see cref="KeepVersions"/> allows: 1.</summary>
    public const int MinKeepVersions = 1;

    /// <summary>The most versions <see cref="KeepVersions"/> allows: 1000.</summary>
    public const int MaxKeepVersions = 1000;
}

internal sealed class RegistryOptionsValidator : IValidateOptions<RegistryOptions>
{
    public ValidateOptionsResult Validate(string? name, RegistryOptions options)
    {
        var failures = new List<string>();
        if (!IsHostPort(options.Address))
        {
            failures.Add($"Berth:Registry:Address: '{options.Address}' is not allowed; allowed: host:port without a scheme, such as 127.0.0.1:5000.");
        }

        if (options.KeepVersions is < RegistryOptions.MinKeepVersions or > RegistryOptions.MaxKeepVersions)
        {
            failures.Add($"Berth:Registry:KeepVersions: {options.KeepVersions} is not allowed; allowed: 1–1000.");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }

    private static bool IsHostPort(string? address)
    {
        if (string.IsNullOrWhiteSpace(address) || address.Contains("://", StringComparison.Ordinal) || address.Contains('/', StringComparison.Ordinal))
        {
            return false;
        }

        var colon = address.LastIndexOf(':');
        return colon > 0 && int.TryParse(address.AsSpan(colon + 1), out var port) && port is > 0 and < 65536
            && Uri.CheckHostName(address[..colon].Trim('[', ']')) != UriHostNameType.Unknown;
    }
}
