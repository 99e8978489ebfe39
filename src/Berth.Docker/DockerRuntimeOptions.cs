using Microsoft.Extensions.Options;

namespace Berth.Docker;

/// <summary>Settings of the Docker Engine driver (<see cref="DockerContainerRuntime"/>).</summary>
public sealed class DockerRuntimeOptions
{
    /// <summary>The socket Docker listens on when <c>DOCKER_HOST</c> is not set.</summary>
    public const string DefaultEndpoint = "unix:///var/run/docker.sock";

    /// <summary>The engine's API endpoint: <c>unix:///path</c>, <c>tcp://host:port</c> or <c>http://host:port</c>.</summary>
    /// <value>The <c>DOCKER_HOST</c> environment variable when set, otherwise <c>unix:///var/run/docker.sock</c>.</value>
    public string Endpoint { get; set; } = ResolveDefaultEndpoint();

    /// <summary>How long a single short API call (not waits, logs, builds or imports) may take.</summary>
    /// <value>100 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Process limit used when a <see cref="Runtime.ContainerSpec.PidsLimit"/> is zero or negative.</summary>
    /// <value>1024.</value>
    public long DefaultPidsLimit { get; set; } = 1024;

    /// <summary>
    /// The most open files per process (<c>RLIMIT_NOFILE</c>) the driver gives any container, whatever its instance type
    /// asks. The engine cannot start a container with more than its own hard limit (<c>LimitNOFILE</c> of dockerd and
    /// containerd; the start fails with "error setting rlimit type 7"), so lower this on an engine with a lower limit.
    /// </summary>
    /// <value>16384. At least 64.</value>
    public long MaxOpenFilesLimit { get; set; } = 16_384;

    /// <summary>
    /// Whether to set a per-container disk quota (<c>StorageOpt size</c>) from the instance type when the
    /// engine's storage driver supports it. When it does not, disk limits are not enforced and a warning is logged once.
    /// </summary>
    /// <value><see langword="true"/>.</value>
    public bool EnforceDiskLimits { get; set; } = true;

    /// <summary>
    /// Whether the driver installs <see cref="Docker.HostFirewall"/>'s iptables rules (containers on Berth's bridges cannot
    /// reach any address of the host) before it ensures its first network. Needs root and <c>iptables</c> on the engine's
    /// host; turn it off only when the engine runs elsewhere (then the engine's host needs the same rules).
    /// </summary>
    /// <value><see langword="true"/> for a <c>unix://</c> endpoint (the engine is on this host), <see langword="false"/> otherwise.</value>
    public bool HostFirewall { get; set; } = ResolveDefaultEndpoint().StartsWith("unix://", StringComparison.Ordinal);

    /// <summary>The endpoint Docker's own CLI would use: <c>DOCKER_HOST</c>, else the local socket.</summary>
    public static string ResolveDefaultEndpoint()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("DOCKER_HOST");
        return string.IsNullOrWhiteSpace(fromEnvironment) ? DefaultEndpoint : fromEnvironment.Trim();
    }

    /// <summary>The endpoint as a URI; throws <see cref="OptionsValidationException"/> naming the bad value.</summary>
    internal Uri GetEndpointUri()
    {
        var result = new DockerRuntimeOptionsValidator().Validate(null, this);
        if (result.Failed)
        {
            throw new OptionsValidationException(nameof(DockerRuntimeOptions), typeof(DockerRuntimeOptions), result.Failures);
        }

        return new Uri(Endpoint);
    }
}

/// <summary>Rejects bad <see cref="DockerRuntimeOptions"/> with messages that name the field, the value and what is allowed.</summary>
internal sealed class DockerRuntimeOptionsValidator : IValidateOptions<DockerRuntimeOptions>
{
    private static readonly string[] Schemes = ["unix", "tcp", "http", "npipe"];

    public ValidateOptionsResult Validate(string? name, DockerRuntimeOptions options)
    {
        var failures = new List<string>();
        if (!Uri.TryCreate(options.Endpoint, UriKind.Absolute, out var uri) || !Schemes.Contains(uri.Scheme))
        {
            failures.Add($"Docker:Endpoint '{options.Endpoint}' is not a valid engine endpoint; use unix:///path/to/docker.sock, tcp://host:port or http://host:port.");
        }

        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Docker:RequestTimeout '{options.RequestTimeout}' must be positive.");
        }

        if (options.DefaultPidsLimit <= 0)
        {
            failures.Add($"Docker:DefaultPidsLimit '{options.DefaultPidsLimit}' must be at least 1.");
        }

        if (options.MaxOpenFilesLimit < 64)
        {
            failures.Add($"Docker:MaxOpenFilesLimit '{options.MaxOpenFilesLimit}' must be at least 64.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
