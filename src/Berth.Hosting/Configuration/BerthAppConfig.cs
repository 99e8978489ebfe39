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

    /// <summary>Idle time before a container is stopped (<c>sleep_after</c>); <see langword="null"/> leaves it to the container class.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public TimeSpan? SleepAfter { get; init; }
}

/// <summary>Where a container class's image comes from.</summary>
public abstract record ConfiguredImage;

/// <summary>An image that already exists on the engine, named by reference (for example <c>myapp:1.2</c>).</summary>
/// <param name="Reference">The image reference as written in the file.</param>
public sealed record ImageReference(string Reference) : ConfiguredImage;

/// <summary>An image built from a Dockerfile when the app starts, cached by content (see <see cref="ImageContentHash"/>).</summary>
/// <param name="DockerfilePath">Full path of the Dockerfile.</param>
/// <param name="ContextDirectory">Full path of the build context; contains <paramref name="DockerfilePath"/>.</param>
/// <param name="BuildArgs">Build arguments (<c>image_vars</c>).</param>
public sealed record DockerfileImage(
    string DockerfilePath,
    string ContextDirectory,
    IReadOnlyDictionary<string, string> BuildArgs) : ConfiguredImage;
