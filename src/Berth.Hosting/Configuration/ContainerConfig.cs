using System.Collections.Frozen;

namespace Berth.Hosting;

/// <summary>One entry of <c>containers</c>: a container class, its image and its limits.</summary>
public sealed record ContainerConfig
{
    /// <summary>The durable object class that owns these containers (<c>class_name</c>), a C# identifier.</summary>
    public required string ClassName { get; init; }

    /// <summary>Where the image comes from (<c>image</c>, <c>image_build_context</c>, <c>image_vars</c>).</summary>
    public required ConfiguredImage Image { get; init; }

    /// <summary>Resource limits (<c>instance_type</c>); <see langword="null"/> when absent, leaving the class's own choice in code.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public InstanceType? InstanceType { get; init; }

    /// <summary>
    /// Most containers of this class running at once (<c>max_instances</c>); <see langword="null"/> when absent, leaving
    /// <see cref="Berth.Containers.ContainerClassOptions.MaxInstances"/> (its default or what code set).
    /// </summary>
    /// <value>Default: <see langword="null"/>.</value>
    public int? MaxInstances { get; init; }

    /// <summary>
    /// Containers of this class the node keeps started and paused ahead of demand (<c>prewarmed_instances</c>), claimed by
    /// new objects instead of a cold start; <see langword="null"/> when absent, leaving
    /// <see cref="Berth.Containers.ContainerClassOptions.PrewarmedInstances"/> (0: no warm pool).
    /// </summary>
    /// <value>Default: <see langword="null"/>.</value>
    public int? PrewarmedInstances { get; init; }

    /// <summary>Idle time before a container is stopped (<c>sleep_after</c>); <see langword="null"/> leaves it to the container class.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public TimeSpan? SleepAfter { get; init; }

    /// <summary>OCI runtime of the class's containers (<c>runtime</c>): <c>"runc"</c> or <c>"runsc"</c> (gVisor); <see langword="null"/> leaves it to the class.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public string? Runtime { get; init; }
    /// <summary>
    /// Whether the class's containers run an init process as PID 1 (<c>init</c>, <c>true</c> or <c>false</c>); <see langword="null"/>
    /// when absent, leaving <see cref="Berth.Containers.ContainerClassOptions.Init"/> (the class's choice in code, else off).
    /// </summary>
    /// <value>Default: <see langword="null"/>.</value>
    public bool? Init { get; init; }

    /// <summary>Whether the class's containers may reach the internet (<c>enable_internet</c>); <see langword="null"/> leaves the class's own (default <see langword="true"/>).</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public bool? EnableInternet { get; init; }

    /// <summary>Host globs the class's containers may reach (<c>allowed_hosts</c>); <see langword="null"/> leaves the class's own list.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public IReadOnlyList<string>? AllowedHosts { get; init; }

    /// <summary>Host globs the class's containers may never reach (<c>denied_hosts</c>); <see langword="null"/> leaves the class's own list.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public IReadOnlyList<string>? DeniedHosts { get; init; }

    /// <summary>
    /// The steps of a rollout (<c>rollout_step_percentage</c>, a number or a list, each 1–100, strictly increasing); <see langword="null"/>
    /// leaves <see cref="Berth.Containers.ContainerClassOptions.RolloutStepPercentage"/> (<c>[10, 100]</c>).
    /// </summary>
    /// <value>Default: <see langword="null"/>.</value>
    public IReadOnlyList<int>? RolloutStepPercentage { get; init; }

    /// <summary>How old a container must be before a rollout replaces it (<c>rollout_active_grace_period</c>, seconds); <see langword="null"/> leaves 0.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public TimeSpan? RolloutActiveGracePeriod { get; init; }

    /// <summary>
    /// How long a replaced container has to drain and exit on SIGTERM before SIGKILL (<c>rollout_stop_grace_period</c>, seconds, 1–900);
    /// <see langword="null"/> leaves 15 minutes.
    /// </summary>
    /// <value>Default: <see langword="null"/>.</value>
    public TimeSpan? RolloutStopGracePeriod { get; init; }

    /// <summary>
    /// How the class scales when it is used as a pool (<c>autoscaling</c>: <c>minimum_instances</c>, <c>target_concurrency</c>,
    /// <c>cpu_target</c>, <c>scale_down_delay</c>, <c>max_queued_requests</c>, <c>queue_timeout</c>); <see langword="null"/> when absent.
    /// </summary>
    /// <value>Default: <see langword="null"/>.</value>
    public AutoscalingConfig? Autoscaling { get; init; }
}
