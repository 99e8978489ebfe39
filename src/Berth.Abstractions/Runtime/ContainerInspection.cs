namespace Berth.Runtime;

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

    /// <summary>The OCI runtime the engine runs the container with (for example <c>runc</c> or <c>runsc</c>), when the engine says.</summary>
    public string? Runtime { get; init; }
}
