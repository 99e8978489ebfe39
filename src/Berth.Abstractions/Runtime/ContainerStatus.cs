namespace Berth.Runtime;

/// <summary>What the engine says a container is doing.</summary>
public enum EngineContainerState
{
    /// <summary>Created, never started.</summary>
    Created,

    /// <summary>Its main process runs.</summary>
    Running,

    /// <summary>Frozen.</summary>
    Paused,

    /// <summary>Restarting under a restart policy.</summary>
    Restarting,

    /// <summary>Its main process has exited.</summary>
    Exited,

    /// <summary>Could not be stopped or removed cleanly.</summary>
    Dead,

    /// <summary>Being removed.</summary>
    Removing,
}

/// <summary>A published port: the container's port and where it can be reached on the host.</summary>
/// <param name="ContainerPort">Port inside the container.</param>
/// <param name="HostAddress">Host address (always a loopback address for Berth).</param>
/// <param name="HostPort">Port on the host.</param>
public sealed record PortBinding(int ContainerPort, string HostAddress, int HostPort);

/// <summary>A container as inspected.</summary>
public sealed record ContainerInspection
{
    /// <summary>Engine ID.</summary>
    public required string Id { get; init; }

    /// <summary>Name without a leading slash.</summary>
    public required string Name { get; init; }

    /// <summary>Image reference it was created from.</summary>
    public required string Image { get; init; }

    /// <summary>Run state.</summary>
    public required EngineContainerState State { get; init; }

    /// <summary>Exit code once <see cref="EngineContainerState.Exited"/>.</summary>
    public int? ExitCode { get; init; }

    /// <summary>The kernel's OOM killer ended it.</summary>
    public bool OomKilled { get; init; }

    /// <summary>Engine error, if the start failed.</summary>
    public string? Error { get; init; }

    /// <summary>When it last started.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it last exited.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Its labels.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>Published ports by container port.</summary>
    public IReadOnlyDictionary<int, PortBinding> Ports { get; init; } = new Dictionary<int, PortBinding>();

    /// <summary>Its address on <see cref="Network"/>, reachable from the host.</summary>
    public string? IpAddress { get; init; }

    /// <summary>The network <see cref="IpAddress"/> belongs to.</summary>
    public string? Network { get; init; }

    /// <summary>Memory limit in bytes as applied by the engine (0 means none).</summary>
    public long MemoryLimitBytes { get; init; }

    /// <summary>CPU limit as applied by the engine, in NanoCPUs (0 means none).</summary>
    public long NanoCpus { get; init; }

    /// <summary>Process limit as applied by the engine.</summary>
    public long? PidsLimit { get; init; }
}

/// <summary>How a container's main process ended.</summary>
/// <param name="ExitCode">Exit code (137 after SIGKILL).</param>
/// <param name="OomKilled">The kernel's OOM killer ended it.</param>
/// <param name="Error">Engine error, if any.</param>
public sealed record ContainerExit(int ExitCode, bool OomKilled, string? Error = null);

/// <summary>A container as listed.</summary>
public sealed record ContainerSummary(
    string Id,
    string Name,
    string Image,
    EngineContainerState State,
    IReadOnlyDictionary<string, string> Labels,
    DateTimeOffset CreatedAt);

/// <summary>A snapshot of a container's resource use.</summary>
/// <param name="CpuTotalNanoseconds">CPU time used since start.</param>
/// <param name="CpuPercent">CPU use since the previous sample, in percent of one CPU.</param>
/// <param name="MemoryUsageBytes">Memory in use.</param>
/// <param name="MemoryLimitBytes">Memory limit.</param>
/// <param name="NetworkReceivedBytes">Bytes received on all interfaces.</param>
/// <param name="NetworkSentBytes">Bytes sent on all interfaces.</param>
/// <param name="ReadAt">When the engine took the sample.</param>
public sealed record ContainerStats(
    ulong CpuTotalNanoseconds,
    double CpuPercent,
    ulong MemoryUsageBytes,
    ulong MemoryLimitBytes,
    ulong NetworkReceivedBytes,
    ulong NetworkSentBytes,
    DateTimeOffset ReadAt);

/// <summary>Which stream a log line came from.</summary>
public enum LogStream
{
    /// <summary>Standard output.</summary>
    Stdout,

    /// <summary>Standard error.</summary>
    Stderr,
}

/// <summary>One line of a container's output.</summary>
public sealed record LogLine(LogStream Stream, string Text, DateTimeOffset? Timestamp);

/// <summary>An image as stored on the engine.</summary>
public sealed record ImageInfo(string Id, IReadOnlyList<string> Tags, IReadOnlyDictionary<string, string> Labels, long SizeBytes);

/// <summary>A network as stored on the engine.</summary>
public sealed record NetworkInfo(string Id, string Name, bool Internal, IReadOnlyDictionary<string, string> Labels);
