using System.Collections.Frozen;

namespace Berth.Hosting;

/// <summary>
/// An app's <c>berth.jsonc</c> after parsing and validation. Immutable: produced by
/// <see cref="BerthConfigFile"/>, never edited afterwards.
/// </summary>
public sealed record BerthAppConfig
{
    /// <summary>The app name (<c>name</c>); carried by every container and image as the <see cref="BerthLabels.App"/> label.</summary>
    public required string Name { get; init; }

    /// <summary>Full path of the file this came from; <see langword="null"/> when parsed from a string.</summary>
    public string? FilePath { get; init; }

    /// <summary>Container classes (<c>containers</c>), in file order.</summary>
    public IReadOnlyList<ContainerConfig> Containers { get; init; } = [];

    /// <summary>Durable object bindings (<c>durable_objects.bindings</c>), in file order.</summary>
    public IReadOnlyList<DurableObjectBinding> DurableObjectBindings { get; init; } = [];

    /// <summary>Cron expressions (<c>triggers.crons</c>) dispatched to every registered <see cref="IScheduledHandler"/>.</summary>
    public IReadOnlyList<string> Crons { get; init; } = [];

    /// <summary>Plain variables (<c>vars</c>), also exposed as configuration keys by <see cref="BerthConfigExtensions.AddBerthConfig(Microsoft.Extensions.Hosting.IHostApplicationBuilder, string)"/>.</summary>
    public IReadOnlyDictionary<string, string> Vars { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>The container class named <paramref name="className"/> (ordinal match), or <see langword="null"/>.</summary>
    public ContainerConfig? FindContainer(string className) =>
        Containers.FirstOrDefault(c => string.Equals(c.ClassName, className, StringComparison.Ordinal));
}

/// <summary>One entry of <c>containers</c>: a container class, its image and its limits.</summary>
public sealed record ContainerConfig
{
    /// <summary>Default of <see cref="MaxInstances"/>.</summary>
    public const int DefaultMaxInstances = 20;

    /// <summary>The durable object class that owns these containers (<c>class_name</c>), a C# identifier.</summary>
    public required string ClassName { get; init; }

    /// <summary>Where the image comes from (<c>image</c>, <c>image_build_context</c>, <c>image_vars</c>).</summary>
    public required ContainerImageSource Image { get; init; }

    /// <summary>Resource limits (<c>instance_type</c>).</summary>
    /// <value>Default: <see cref="InstanceType.Lite"/>.</value>
    public InstanceType InstanceType { get; init; } = InstanceType.Lite;

    /// <summary>Most containers of this class running at once (<c>max_instances</c>).</summary>
    /// <value>Default: 20.</value>
    public int MaxInstances { get; init; } = DefaultMaxInstances;

    /// <summary>Idle time before a container is stopped (<c>sleep_after</c>); <see langword="null"/> leaves it to the container class.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public TimeSpan? SleepAfter { get; init; }

    /// <summary>Cumulative percentages of instances updated at each rollout step (<c>rollout_step_percentage</c>), ascending, ending at 100.</summary>
    /// <value>Default: <c>[10, 100]</c>.</value>
    public IReadOnlyList<int> RolloutStepPercentage { get; init; } = [10, 100];

    /// <summary>An instance younger than this is skipped by a rollout step (<c>rollout_active_grace_period</c>).</summary>
    /// <value>Default: zero.</value>
    public TimeSpan RolloutActiveGracePeriod { get; init; }

    /// <summary>Autoscaling of a pool of instances (<c>autoscaling</c>); <see langword="null"/> when not configured.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public AutoscalingConfig? Autoscaling { get; init; }
}

/// <summary>Where a container class's image comes from.</summary>
public abstract record ContainerImageSource;

/// <summary>An image that already exists on the engine, named by reference (for example <c>myapp:1.2</c>).</summary>
/// <param name="Reference">The image reference as written in the file.</param>
public sealed record ImageReference(string Reference) : ContainerImageSource;

/// <summary>An image built from a Dockerfile when the app starts, cached by content (see <see cref="ImageContentHash"/>).</summary>
/// <param name="DockerfilePath">Full path of the Dockerfile.</param>
/// <param name="ContextDirectory">Full path of the build context; contains <paramref name="DockerfilePath"/>.</param>
/// <param name="BuildArgs">Build arguments (<c>image_vars</c>).</param>
public sealed record DockerfileImage(
    string DockerfilePath,
    string ContextDirectory,
    IReadOnlyDictionary<string, string> BuildArgs) : ContainerImageSource;

/// <summary>Autoscaling settings of a container class (<c>autoscaling</c>).</summary>
public sealed record AutoscalingConfig
{
    /// <summary>Instances kept warm even without traffic (<c>minimum_instances</c>), at most <see cref="ContainerConfig.MaxInstances"/>.</summary>
    /// <value>Default: 0.</value>
    public int MinimumInstances { get; init; }

    /// <summary>Average CPU use, in percent of the instance's vCPU, above which the pool grows (<c>cpu_target</c>, 1–100).</summary>
    /// <value>Default: <see langword="null"/> (no CPU-based scaling).</value>
    public int? CpuTarget { get; init; }

    /// <summary>In-flight requests per instance above which the pool grows (<c>concurrency_target</c>, at least 1).</summary>
    /// <value>Default: <see langword="null"/> (no concurrency-based scaling).</value>
    public int? ConcurrencyTarget { get; init; }
}

/// <summary>One entry of <c>durable_objects.bindings</c>: the name the app uses for a durable object class.</summary>
/// <param name="Name">Binding name, a C# identifier, unique in the file.</param>
/// <param name="ClassName">The durable object class, a C# identifier.</param>
public sealed record DurableObjectBinding(string Name, string ClassName);
