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

    /// <summary>Signal the engine sends on stop when none is given; <see langword="null"/> means the image's or SIGTERM.</summary>
    public ContainerSignal? StopSignal { get; init; }
}

/// <summary>A network containers can join. <see cref="Internal"/> networks have no route out.</summary>
public sealed record NetworkSpec
{
    /// <summary>Network name.</summary>
    public required string Name { get; init; }

    /// <summary>When <see langword="true"/>, containers on the network cannot reach outside the host.</summary>
    public bool Internal { get; init; }

    /// <summary>Labels; see <see cref="BerthLabels"/>.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
}

/// <summary>How to stop a container.</summary>
/// <param name="Signal">First signal, usually <see cref="ContainerSignal.SIGTERM"/>.</param>
/// <param name="GracePeriod">Time between the first signal and SIGKILL.</param>
/// <remarks>The grace period has no default here: its one owner is <c>ContainerOptions.StopGracePeriod</c>.</remarks>
public sealed record StopOptions(ContainerSignal Signal, TimeSpan GracePeriod);

/// <summary>A command to run inside a running container.</summary>
public sealed record ExecSpec
{
    /// <summary>Command and arguments.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Extra environment variables.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Working directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>User to run as.</summary>
    public string? User { get; init; }
}

/// <summary>Streams wired to an exec'd process. Any may be <see langword="null"/> to ignore it.</summary>
/// <param name="Stdin">Read to its end and sent to the process's standard input, which is then closed.</param>
/// <param name="Stdout">Receives standard output.</param>
/// <param name="Stderr">Receives standard error.</param>
public sealed record ExecStreams(Stream? Stdin = null, Stream? Stdout = null, Stream? Stderr = null);

/// <summary>Which logs to read.</summary>
/// <param name="Follow">Keep reading as new lines arrive, until cancelled or the container exits.</param>
/// <param name="Tail">Number of lines from the end to start with; <see langword="null"/> for all.</param>
/// <param name="Since">Only lines written after this time.</param>
public sealed record LogOptions(bool Follow = false, int? Tail = null, DateTimeOffset? Since = null);

/// <summary>An image to build from a Dockerfile and a context directory.</summary>
public sealed record ImageBuildSpec
{
    /// <summary>Directory sent to the engine as the build context.</summary>
    public required string ContextDirectory { get; init; }

    /// <summary>Dockerfile path relative to the context.</summary>
    public string Dockerfile { get; init; } = "Dockerfile";

    /// <summary>Tags for the built image (at least one).</summary>
    public required IReadOnlyList<string> Tags { get; init; }

    /// <summary>Build arguments (<c>ARG</c> values).</summary>
    public IReadOnlyDictionary<string, string> BuildArgs { get; init; } = new Dictionary<string, string>();

    /// <summary>Labels for the image.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
}
