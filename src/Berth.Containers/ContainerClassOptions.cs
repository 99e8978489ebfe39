using Microsoft.Extensions.Options;

namespace Berth.Containers;

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

    /// <summary>Largest <see cref="PrewarmedInstances"/>: 64.</summary>
    public const int MaxPrewarmedInstances = 64;

    /// <summary>
    /// Containers of this class the node keeps created, started, ready (ports open) and paused ahead of demand
    /// (<c>prewarmed_instances</c>): a new object's first start claims one (unpause) instead of creating and starting its own.
    /// They count toward <see cref="MaxInstances"/>. A prewarmed container is created before its object is known, so it has
    /// no <c>BERTH_OBJECT_ID</c> in its environment: the object's ID appears in the file <c>/run/berth/object-id</c> at claim
    /// (see docs/warm-pool.md). Leave it 0 for a class whose container needs its identity at boot.
    /// </summary>
    /// <value>Defaults to 0 (no warm pool: every start is a cold start). From 0 to <see cref="MaxPrewarmedInstances"/>, at most <see cref="MaxInstances"/>.</value>
    public int PrewarmedInstances { get; set; }

    /// <summary>Idle time before sleep; overrides <see cref="Container.SleepAfter"/> when set.</summary>
    /// <value>Defaults to <see langword="null"/> (the class's own <see cref="Container.SleepAfter"/>). Positive when set.</value>
    public TimeSpan? SleepAfter { get; set; }

    /// <summary>
    /// Whether the class's containers run an init process as PID 1 (<c>init</c> in the config; the engine's <c>--init</c>,
    /// tini / docker-init) in front of the entrypoint; overrides <see cref="Container.Init"/> when set. Want it when the
    /// entrypoint is a plain server without a SIGTERM handler (busybox <c>httpd -f</c>, many scripts): as PID 1 such a
    /// process ignores SIGTERM, so every sleep waits the whole stop grace and ends in SIGKILL. The init process also reaps
    /// zombie processes the entrypoint leaves behind.
    /// </summary>
    /// <value>Defaults to <see langword="null"/> (the class's own <see cref="Container.Init"/>, itself <see langword="false"/> by default).</value>
    public bool? Init { get; set; }

    /// <summary>
    /// The largest request body, in bytes, the gateway forwards to this class's containers; a route's own limit
    /// (<c>WithMaxRequestBodySize</c>) still wins. Larger bodies are answered <c>413 body_too_large</c>.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: the gateway's <c>Berth:Gateway:MaxRequestBodySize</c> (100 MiB). Positive when set.</value>
    public long? MaxRequestBodySize { get; set; }

    /// <summary>The OCI runtimes a class may run on: <c>runc</c> (the engine's default) and <c>runsc</c> (gVisor).</summary>
    public static IReadOnlyList<string> AllowedRuntimes { get; } = ["runc", "runsc"];

    /// <summary>
    /// OCI runtime of the class's containers (<c>runtime</c>): <c>runc</c>, or <c>runsc</c> to run their system calls
    /// through gVisor (the engine must have it registered; <c>scripts/bootstrap.sh</c> does). Overrides
    /// <see cref="Container.Runtime"/> when set.
    /// </summary>
    /// <value>Defaults to <see langword="null"/> (the class's own <see cref="Container.Runtime"/>). One of <see cref="AllowedRuntimes"/> when set.</value>
    public string? Runtime { get; set; }

    /// <summary>
    /// Whether the class's ports are also published on the host's 127.0.0.1 (on ports the engine picks). The gateway
    /// never needs it; a class asks for it only for tools that must reach a container without the gateway.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>: no port on any host address.</value>
    public bool PublishPorts { get; set; }

    /// <summary>Whether <paramref name="runtime"/> is one of <see cref="AllowedRuntimes"/> (exact, lowercase).</summary>
    /// <param name="runtime">A runtime name from the config or the class.</param>
    public static bool IsAllowedRuntime(string? runtime) => runtime is not null && AllowedRuntimes.Contains(runtime, StringComparer.Ordinal);

    /// <summary>The error message for a runtime that is not allowed, naming the allowed values.</summary>
    /// <param name="where">Where the value came from, for example <c>containers[Sandbox].runtime</c>.</param>
    /// <param name="runtime">The value.</param>
    public static string RuntimeError(string where, string? runtime) =>
        $"{where}: '{runtime}' is not allowed; use one of: {string.Join(", ", AllowedRuntimes.Select(r => $"\"{r}\""))}, or leave it out for the default.";

    /// <summary>Whether the class's containers may reach the internet (<c>enable_internet</c>); overrides the class's <c>EnableInternet</c> when set.</summary>
    /// <value>Defaults to <see langword="null"/> (the class's own, which defaults to <see langword="true"/>).</value>
    public bool? EnableInternet { get; set; }

    /// <summary>Host globs the class's containers may reach (<c>allowed_hosts</c>); replaces the class's <c>AllowedHosts</c> when set. See <see cref="Berth.Egress.HostGlob"/>.</summary>
    /// <value>Defaults to <see langword="null"/> (the class's own list).</value>
    public IList<string>? AllowedHosts { get; set; }

    /// <summary>Host globs the class's containers may never reach (<c>denied_hosts</c>); replaces the class's <c>DeniedHosts</c> when set. Deny wins over allow.</summary>
    /// <value>Defaults to <see langword="null"/> (the class's own list).</value>
    public IList<string>? DeniedHosts { get; set; }

    /// <summary>Default of <see cref="RolloutStepPercentage"/>: 10 %, then 100 %.</summary>
    public static IReadOnlyList<int> DefaultRolloutSteps { get; } = [10, 100];

    /// <summary>Default and largest value of <see cref="RolloutStopGracePeriod"/>: 15 minutes.</summary>
    public static readonly TimeSpan MaxRolloutStopGracePeriod = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The steps of a rollout (<c>rollout_step_percentage</c>, a number or a list): each step replaces running containers until
    /// this percentage (of those on another version when the rollout started, rounded up) runs the new version, oldest first.
    /// </summary>
    /// <value>Defaults to <see cref="DefaultRolloutSteps"/> (<c>[10, 100]</c>). Each 1–100, strictly increasing; a list that does not end with 100 gets 100 appended.</value>
    public IReadOnlyList<int> RolloutStepPercentage { get; set; } = DefaultRolloutSteps;

    /// <summary>
    /// How old a running container must be before a rollout replaces it (<c>rollout_active_grace_period</c>, seconds in the
    /// config): a younger one is left until it is this old.
    /// </summary>
    /// <value>Defaults to zero (any age). Zero or positive.</value>
    public TimeSpan RolloutActiveGracePeriod { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How long a replaced container has, from the moment a rollout takes it, to finish its in-flight requests, streams and
    /// WebSockets and then exit on SIGTERM (<c>rollout_stop_grace_period</c>, seconds in the config); at its end it is SIGKILLed.
    /// </summary>
    /// <value>Defaults to <see cref="MaxRolloutStopGracePeriod"/> (15 minutes). Positive, at most 15 minutes.</value>
    public TimeSpan RolloutStopGracePeriod { get; set; } = MaxRolloutStopGracePeriod;

    /// <summary>The steps a rollout of this class takes: <see cref="RolloutStepPercentage"/>, ending with 100.</summary>
    internal IReadOnlyList<int> EffectiveRolloutSteps =>
        RolloutStepPercentage is { Count: > 0 } steps ? steps[^1] == 100 ? steps : [.. steps, 100] : DefaultRolloutSteps;

    /// <summary>
    /// How the class scales when it is used as a pool (<c>GetPool()</c>, <c>MapPool</c>): <c>minimum_instances</c>,
    /// <c>target_concurrency</c>, <c>scale_down_delay</c>, <c>max_queued_requests</c>, <c>queue_timeout</c>. See docs/scaling.md.
    /// </summary>
    /// <value>Defaults to a new <see cref="Scaling.ContainerPoolOptions"/> with its documented defaults.</value>
    public Scaling.ContainerPoolOptions Pool { get; } = new();

    /// <summary>Environment variables added to every instance of the class.</summary>
    public IDictionary<string, string> EnvVars { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
