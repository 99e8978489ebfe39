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

    /// <summary>TCP ports the container listens on; reached on the container's own address, published only when <see cref="PublishPorts"/>.</summary>
    public IReadOnlyList<int> Ports { get; init; } = [];

    /// <summary>
    /// Whether drivers publish <see cref="Ports"/> on the host: on 127.0.0.1 only, on ports the engine picks. Berth's
    /// gateway reaches containers on their own address, so nothing needs it but a class that asks for it explicitly.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>: no port on any host address.</value>
    public bool PublishPorts { get; init; }

    /// <summary>Resource limits (cgroups).</summary>
    public InstanceType InstanceType { get; init; } = InstanceType.Lite;

    /// <summary>Maximum number of processes in the container; 0 or less means the driver's default.</summary>
    /// <value>Defaults to 1024; the platform sets <see cref="InstanceType.PidsLimit"/>.</value>
    public long PidsLimit { get; init; } = 1024;

    /// <summary>Open files and sockets each process may hold (<c>RLIMIT_NOFILE</c>, soft and hard); 0 or less means <see cref="InstanceType.OpenFilesLimit"/>.</summary>
    /// <value>Defaults to 0: <see cref="InstanceType.OpenFilesLimit"/>.</value>
    public long OpenFilesLimit { get; init; }

    /// <summary>
    /// Where to mount a private, size-limited in-memory file system (tmpfs), for example <c>/tmp</c>. Its size is the
    /// instance type's disk or half its memory, whichever is smaller (the pages count against the memory limit too), so
    /// a process that fills it gets <c>ENOSPC</c> inside its own container. Empty means none.
    /// </summary>
    /// <value>Defaults to none.</value>
    public IReadOnlyList<string> ScratchMounts { get; init; } = [];

    /// <summary>Network the container joins; <see langword="null"/> means the engine's default bridge.</summary>
    public string? Network { get; init; }

    /// <summary>
    /// Entries added to the container's hosts file, each <c>name:address</c> (the engine's <c>--add-host</c>), for
    /// example <c>api.internal:172.20.0.1</c>: the hosts a class's outbound handlers answer point at the egress proxy.
    /// </summary>
    /// <value>Defaults to none.</value>
    public IReadOnlyList<string> ExtraHosts { get; init; } = [];

    /// <summary>
    /// OCI runtime the engine runs the container with, for example <c>runsc</c> for gVisor (registered with the engine by
    /// <c>scripts/register-runsc.sh</c>); <see langword="null"/> means the engine's default (<c>runc</c>).
    /// </summary>
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

    /// <summary>
    /// Host directories mounted into the container (bind mounts). Berth uses one, read-only, to hand a warm-pool container
    /// its object's identity at claim time; the host path must be absolute and on the engine's machine.
    /// </summary>
    /// <value>Defaults to none.</value>
    public IReadOnlyList<BindMount> BindMounts { get; init; } = [];
}

/// <summary>A host directory mounted into a container.</summary>
/// <param name="HostPath">Absolute directory on the engine's host.</param>
/// <param name="ContainerPath">Absolute path inside the container.</param>
/// <param name="ReadOnly">Whether the container may only read it.</param>
public sealed record BindMount(string HostPath, string ContainerPath, bool ReadOnly = true);
