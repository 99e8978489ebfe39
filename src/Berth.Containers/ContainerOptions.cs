using Microsoft.Extensions.Options;

namespace Berth.Containers;

/// <summary>Node-wide settings for container objects.</summary>
public sealed class ContainerOptions
{
    /// <summary>The application name, put on every container as <see cref="BerthLabels.App"/>.</summary>
    /// <value>Defaults to <c>berth</c>.</value>
    public string AppName { get; set; } = "berth";

    /// <summary>
    /// This node's stable identity: put on every container it starts as <see cref="BerthLabels.Node"/> and in the
    /// container's name (<see cref="BerthNames.Container"/>). At start-up a node reconciles only containers carrying its
    /// own ID, so two nodes of one app on one engine never remove or replace each other's containers.
    /// </summary>
    /// <value>
    /// Defaults to the empty string, which <c>AddBerth</c> replaces with the ID kept in the node's data directory
    /// (<c>{DataDirectory}/node-id</c>, generated once), so a restarted node adopts its containers. When set: 1–32
    /// lowercase letters, digits or '-', starting with a letter or digit.
    /// </value>
    public string NodeId { get; set; } = "";

    /// <summary>This node's display name, given to containers as <c>BERTH_NODE</c>; not its identity (see <see cref="NodeId"/>).</summary>
    /// <value>Defaults to the machine name.</value>
    public string NodeName { get; set; } = Environment.MachineName;

    /// <summary>Location label given to containers as <c>BERTH_LOCATION</c>.</summary>
    /// <value>Defaults to <c>local</c>.</value>
    public string Location { get; set; } = "local";

    /// <summary>Region label given to containers as <c>BERTH_REGION</c>.</summary>
    /// <value>Defaults to <c>local</c>.</value>
    public string Region { get; set; } = "local";

    /// <summary>How long creating and starting a container may take.</summary>
    /// <value>Defaults to 30 seconds.</value>
    public TimeSpan InstanceStartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a started container has to accept connections on its required ports.</summary>
    /// <value>Defaults to 30 seconds.</value>
    public TimeSpan PortReadyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time between two readiness checks; a refused connection on Berth's bridge network costs microseconds, so polling often keeps cold starts short.</summary>
    /// <value>Defaults to 10 milliseconds.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Time between SIGTERM and SIGKILL when the platform stops a container.</summary>
    /// <value>Defaults to 30 seconds.</value>
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>OCI runtime for containers (for example <c>runsc</c> for gVisor); <see langword="null"/> for the engine's default.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? Runtime { get; set; }

    /// <summary>Labels added to every container and network Berth creates (tests add <c>berth.test=1</c>).</summary>
    public IDictionary<string, string> ExtraLabels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

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

    /// <summary>Environment variables added to every instance of the class.</summary>
    public IDictionary<string, string> EnvVars { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

internal sealed class ContainerOptionsValidator : IValidateOptions<ContainerOptions>
{
    public ValidateOptionsResult Validate(string? name, ContainerOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.AppName) || !options.AppName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            failures.Add($"Berth:Containers:AppName: '{options.AppName}' is not allowed; use letters, digits, '-', '_' or '.'.");
        }

        if (!string.IsNullOrEmpty(options.NodeId) && !BerthNames.IsValidNodeId(options.NodeId))
        {
            failures.Add($"Berth:Containers:NodeId: '{options.NodeId}' is not allowed; use 1–32 lowercase letters, digits or '-', starting with a letter or digit, or leave it empty for the ID kept in the data directory.");
        }

        Positive(options.InstanceStartTimeout, nameof(options.InstanceStartTimeout));
        Positive(options.PortReadyTimeout, nameof(options.PortReadyTimeout));
        Positive(options.PollInterval, nameof(options.PollInterval));
        if (options.StopGracePeriod < TimeSpan.Zero)
        {
            failures.Add($"Berth:Containers:StopGracePeriod: '{options.StopGracePeriod}' is not allowed; use zero or a positive time span.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive(TimeSpan value, string field)
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"Berth:Containers:{field}: '{value}' is not allowed; use a positive time span.");
            }
        }
    }
}

internal sealed class ContainerClassOptionsValidator : IValidateOptions<ContainerClassOptions>
{
    public ValidateOptionsResult Validate(string? name, ContainerClassOptions options)
    {
        var failures = new List<string>();
        var subject = $"Container class '{(options.ClassName.Length > 0 ? options.ClassName : name)}'";
        if (options.MaxInstances < 1)
        {
            failures.Add($"{subject}: MaxInstances '{options.MaxInstances}' is not allowed; use an integer ≥ 1.");
        }

        if (options.SleepAfter is { } sleepAfter && sleepAfter <= TimeSpan.Zero)
        {
            failures.Add($"{subject}: SleepAfter '{sleepAfter}' is not allowed; use a positive time span, or null for the class's own.");
        }

        if (options.Image is { } image && string.IsNullOrWhiteSpace(image))
        {
            failures.Add($"{subject}: Image is empty; set an image reference such as 'my-api:1.0', or null to take it from the config file.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
