using Microsoft.Extensions.Options;

namespace Berth.Containers;

/// <summary>Settings of one container class (a <c>containers[]</c> entry of the app's config).</summary>
public sealed class ContainerClassOptions
{
    /// <summary>Class name; matches the C# class deriving from <see cref="Container"/>.</summary>
    public string ClassName { get; set; } = "";

    /// <summary>Image reference to run. Set by the app's image build when the config names a Dockerfile.</summary>
    public string? Image { get; set; }

    /// <summary>Resources of each instance; overrides <see cref="Container.InstanceType"/> when set.</summary>
    /// <value>Defaults to <see langword="null"/> (the class's own <see cref="Container.InstanceType"/>).</value>
    public InstanceType? InstanceType { get; set; }

    /// <summary>Default of <see cref="MaxInstances"/>: 20.</summary>
    public const int DefaultMaxInstances = 20;

    /// <summary>Most instances of this class running at once on this node (<c>max_instances</c>).</summary>
    /// <value>Defaults to <see cref="DefaultMaxInstances"/> (20). At least 1.</value>
    public int MaxInstances { get; set; } = DefaultMaxInstances;

    /// <summary>Idle time before sleep; overrides <see cref="Container.SleepAfter"/> when set.</summary>
    /// <value>Defaults to <see langword="null"/> (the class's own <see cref="Container.SleepAfter"/>). Positive when set.</value>
    public TimeSpan? SleepAfter { get; set; }

    /// <summary>
    /// The largest request body, in bytes, the gateway forwards to this class's containers; a route's own limit
    /// (<c>WithMaxRequestBodySize</c>) still wins. Larger bodies are answered <c>413 body_too_large</c>.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: the gateway's <c>Berth:Gateway:MaxRequestBodySize</c> (100 MiB). Positive when set.</value>
    public long? MaxRequestBodySize { get; set; }

    /// <summary>Whether the class's containers may reach the internet (<c>enable_internet</c>); overrides the class's <c>EnableInternet</c> when set.</summary>
    /// <value>Defaults to <see langword="null"/> (the class's own, which defaults to <see langword="true"/>).</value>
    public bool? EnableInternet { get; set; }

    /// <summary>Host globs the class's containers may reach (<c>allowed_hosts</c>); replaces the class's <c>AllowedHosts</c> when set. See <see cref="Berth.Egress.HostGlob"/>.</summary>
    /// <value>Defaults to <see langword="null"/> (the class's own list).</value>
    public IList<string>? AllowedHosts { get; set; }

    /// <summary>Host globs the class's containers may never reach (<c>denied_hosts</c>); replaces the class's <c>DeniedHosts</c> when set. Deny wins over allow.</summary>
    /// <value>Defaults to <see langword="null"/> (the class's own list).</value>
    public IList<string>? DeniedHosts { get; set; }

    /// <summary>Environment variables added to every instance of the class.</summary>
    public IDictionary<string, string> EnvVars { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
