namespace Berth.Runtime;

/// <summary>The desired container: what to run and with which limits. A plain record so any driver can honour it.</summary>
public sealed record ContainerSpec
{
    /// <summary>Unique container name on the engine.</summary>
    public required string Name { get; init; }

    /// <summary>Image reference (tag or ID).</summary>
    public required string Image { get; init; }

    /// <summary>Overrides the image's entrypoint when set.</summary>
    public IReadOnlyList<string>? Entrypoint { get; init; }

    /// <summary>Overrides the image's command when set.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>Environment variables.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Labels; see <see cref="BerthLabels"/>.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>TCP ports the container listens on. Drivers publish them on 127.0.0.1 only, on ports the engine picks.</summary>
    public IReadOnlyList<int> Ports { get; init; } = [];

    /// <summary>Resource limits (cgroups).</summary>
    public InstanceType InstanceType { get; init; } = InstanceType.Lite;

    /// <summary>Maximum number of processes in the container.</summary>
    public long PidsLimit { get; init; } = 1024;

    /// <summary>Network the container joins; <see langword="null"/> means the engine's default bridge.</summary>
    public string? Network { get; init; }

    /// <summary>OCI runtime (for example <c>runsc</c> for gVisor); <see langword="null"/> means the engine's default.</summary>
    public string? Runtime { get; init; }

    /// <summary>Working directory inside the container.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>
    /// Runs a small init process (the engine's <c>--init</c>, tini / docker-init) as PID 1 in front of the entrypoint: it
    /// forwards signals and reaps zombies, so a server that installs no SIGTERM handler still stops on SIGTERM.
    /// </summary>
    /// <value>Defaults to <see langword="false"/> (the entrypoint is PID 1).</value>
    public bool Init { get; init; }

    /// <summary>Signal the engine sends on stop when none is given; <see langword="null"/> means the image's or SIGTERM.</summary>
    public ContainerSignal? StopSignal { get; init; }
}
