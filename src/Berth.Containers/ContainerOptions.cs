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

    /// <summary>OCI runtime for containers of classes that name none (<c>runc</c>, or <c>runsc</c> for gVisor); <see langword="null"/> for the engine's default.</summary>
    /// <value>Defaults to <see langword="null"/>. One of <see cref="ContainerClassOptions.AllowedRuntimes"/> when set.</value>
    public string? Runtime { get; set; }

    /// <summary>How long one connection attempt of the TCP readiness probe may take; a container on the local bridge that does not accept within it counts as not listening yet.</summary>
    /// <value>Defaults to 1 second. Must be positive; the probe never waits past <see cref="PortReadyTimeout"/>.</value>
    public TimeSpan ConnectProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one HTTP ping of the ping endpoint may take.</summary>
    /// <value>Defaults to 2 seconds. Must be positive; the ping never waits past <see cref="PortReadyTimeout"/>.</value>
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>First wait before the exit monitor retries after the engine failed to report on a container; it doubles on each failure.</summary>
    /// <value>Defaults to 200 milliseconds. Must be positive.</value>
    public TimeSpan MonitorRetryInitialDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest wait between two retries of the exit monitor.</summary>
    /// <value>Defaults to 5 seconds. Must be at least <see cref="MonitorRetryInitialDelay"/>.</value>
    public TimeSpan MonitorRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many left-over containers the start-up reconciler hands to their objects at once.</summary>
    /// <value>Defaults to 8. Must be at least 1.</value>
    public int ReconcileParallelism { get; set; } = 8;

    /// <summary>
    /// Longest single wait of a caller on a container object (start, readiness, stop). Long operations run as work the
    /// object owns; callers wait for them in slices of this length, so no wait is cut by the RPC response timeout
    /// (which Berth raises to at least three slices).
    /// </summary>
    /// <value>Defaults to 5 seconds. Must be positive and at most 1 minute.</value>
    public TimeSpan CallSlice { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// After the gateway could not reach a container that the engine still reports running, how long the object waits
    /// for the exit monitor to report its exit (the engine may lag an OOM kill by a few hundred milliseconds) before it
    /// treats the container as failed and removes it.
    /// </summary>
    /// <value>Defaults to 1 second. Must be positive.</value>
    public TimeSpan ExitSettleTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most output lines of a container that exited with an error kept in its object's state and logged.</summary>
    /// <value>Defaults to 20 lines. Must be between 0 and 1000.</value>
    public int ExitOutputLines { get; set; } = 20;

    /// <summary>Most bytes (UTF-8) of output kept with <see cref="ExitOutputLines"/>; older lines are dropped first.</summary>
    /// <value>Defaults to 4096 bytes. Must be between 0 and 65536.</value>
    public int ExitOutputBytes { get; set; } = 4096;

    /// <summary>
    /// Number of crashes within <see cref="CrashLoopWindow"/> that make a crash loop. A crash is a failed start or an exit
    /// nobody asked for (not a sleep, stop, rollout or destroy), whatever its code: exit 0 included, as Kubernetes'
    /// CrashLoopBackOff counts it, so a container that exits on its own after each answer cannot make the engine start
    /// one per request. An app that exits 0 on its own idle timeout is counted only if it exits more often than every
    /// <see cref="CrashLoopWindow"/> / this (20 s by default).
    /// </summary>
    /// <value>Defaults to 3. Must be at least 1.</value>
    public int CrashLoopThreshold { get; set; } = 3;

    /// <summary>Window in which <see cref="CrashLoopThreshold"/> crashes make a crash loop.</summary>
    /// <value>Defaults to 1 minute. Must be positive.</value>
    public TimeSpan CrashLoopWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a container object in a crash loop answers <see cref="ContainerReadyError.CrashLoop"/> before it tries
    /// again; each further crash in the loop doubles it, up to <see cref="CrashLoopMaxBackoff"/>. A clean start resets it.
    /// </summary>
    /// <value>Defaults to 5 seconds. Must be positive.</value>
    public TimeSpan CrashLoopInitialBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest crash-loop backoff.</summary>
    /// <value>Defaults to 5 minutes. Must be at least <see cref="CrashLoopInitialBackoff"/> and at most a day.</value>
    public TimeSpan CrashLoopMaxBackoff { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How often the node's disk watch measures the writable layer of each running container, on engines whose storage
    /// driver cannot bound it (overlay2 on ext4): a container over its instance type's disk is killed
    /// (<see cref="StopReason.DiskLimitExceeded"/>). A fast writer can exceed the disk by at most its write rate times this interval.
    /// </summary>
    /// <value>Defaults to 5 seconds. Must be between 100 milliseconds and 10 minutes.</value>
    public TimeSpan DiskWatchInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// In a cluster, how often a node reports to a container's object (on another node) how many requests it is forwarding
    /// to that container (<see cref="RemoteActivityTracker"/>). The object keeps the container awake while a report says
    /// some are in flight, for up to 3 intervals after the last one (a node that dies stops reporting). Set it alike on
    /// every node; a container may sleep up to one interval after its last cross-node request ended.
    /// </summary>
    /// <value>Defaults to 1 second. Must be between 100 milliseconds and 1 minute.</value>
    public TimeSpan RemoteActivityInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Labels added to every container and network Berth creates (tests add <c>berth.test=1</c>).</summary>
    public IDictionary<string, string> ExtraLabels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
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

        if (string.IsNullOrEmpty(options.NodeId))
        {
            failures.Add("Berth:Containers:NodeId: empty; set it (1–32 lowercase letters, digits or '-'), or add Berth with AddBerth, which keeps the node's ID in its data directory.");
        }
        else if (!BerthNames.IsValidNodeId(options.NodeId))
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

        Positive(options.ConnectProbeTimeout, nameof(options.ConnectProbeTimeout));
        Positive(options.PingTimeout, nameof(options.PingTimeout));
        Positive(options.MonitorRetryInitialDelay, nameof(options.MonitorRetryInitialDelay));
        Positive(options.ExitSettleTimeout, nameof(options.ExitSettleTimeout));
        Positive(options.CrashLoopWindow, nameof(options.CrashLoopWindow));
        Positive(options.CrashLoopInitialBackoff, nameof(options.CrashLoopInitialBackoff));
        Positive(options.CallSlice, nameof(options.CallSlice));
        if (options.CallSlice > TimeSpan.FromMinutes(1))
        {
            failures.Add($"Berth:Containers:CallSlice: '{options.CallSlice}' is not allowed; use at most 00:01:00.");
        }

        if (options.MonitorRetryMaxDelay < options.MonitorRetryInitialDelay)
        {
            failures.Add($"Berth:Containers:MonitorRetryMaxDelay: '{options.MonitorRetryMaxDelay}' is not allowed; use at least MonitorRetryInitialDelay ('{options.MonitorRetryInitialDelay}').");
        }

        if (options.CrashLoopMaxBackoff < options.CrashLoopInitialBackoff)
        {
            failures.Add($"Berth:Containers:CrashLoopMaxBackoff: '{options.CrashLoopMaxBackoff}' is not allowed; use at least CrashLoopInitialBackoff ('{options.CrashLoopInitialBackoff}').");
        }
        else if (options.CrashLoopMaxBackoff > TimeSpan.FromDays(1))
        {
            // Added to a date: a backoff near TimeSpan.MaxValue overflowed on the first crash loop (hostile trial).
            failures.Add($"Berth:Containers:CrashLoopMaxBackoff: '{options.CrashLoopMaxBackoff}' is not allowed; use at most 1.00:00:00 (a day).");
        }

        if (options.Runtime is { } runtime && !ContainerClassOptions.IsAllowedRuntime(runtime))
        {
            failures.Add(ContainerClassOptions.RuntimeError("Berth:Containers:Runtime", runtime));
        }

        Range(options.ReconcileParallelism, 1, 1024, nameof(options.ReconcileParallelism));
        Range(options.CrashLoopThreshold, 1, 1000, nameof(options.CrashLoopThreshold));
        Range(options.ExitOutputLines, 0, 1000, nameof(options.ExitOutputLines));
        Range(options.ExitOutputBytes, 0, 65536, nameof(options.ExitOutputBytes));
        if (options.DiskWatchInterval < TimeSpan.FromMilliseconds(100) || options.DiskWatchInterval > TimeSpan.FromMinutes(10))
        {
            failures.Add($"Berth:Containers:DiskWatchInterval: '{options.DiskWatchInterval}' is not allowed; use a time span from 00:00:00.1 to 00:10:00.");
        }

        if (options.RemoteActivityInterval < TimeSpan.FromMilliseconds(100) || options.RemoteActivityInterval > TimeSpan.FromMinutes(1))
        {
            failures.Add($"Berth:Containers:RemoteActivityInterval: '{options.RemoteActivityInterval}' is not allowed; use a time span from 00:00:00.1 to 00:01:00.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Range(int value, int min, int max, string field)
        {
            if (value < min || value > max)
            {
                failures.Add($"Berth:Containers:{field}: '{value}' is not allowed; use a number from {min} to {max}.");
            }
        }

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
        var where = $"containers[{name ?? options.ClassName}]";
        if (options.MaxInstances < 1)
        {
            failures.Add($"{where}.max_instances: '{options.MaxInstances}' is not allowed; use 1 or more.");
        }

        if (options.PrewarmedInstances < 0 || options.PrewarmedInstances > ContainerClassOptions.MaxPrewarmedInstances)
        {
            failures.Add($"{where}.prewarmed_instances: '{options.PrewarmedInstances}' is not allowed; use an integer from 0 to {ContainerClassOptions.MaxPrewarmedInstances}.");
        }
        else if (options.PrewarmedInstances > options.MaxInstances && options.MaxInstances >= 1)
        {
            failures.Add($"{where}.prewarmed_instances: '{options.PrewarmedInstances}' is not allowed; use at most max_instances ({options.MaxInstances}): prewarmed containers count toward it.");
        }

        if (options.SleepAfter is { } sleepAfter && sleepAfter <= TimeSpan.Zero)
        {
            failures.Add($"{where}.sleep_after: '{sleepAfter}' is not allowed; use a positive time span, or leave it out for the class's default.");
        }

        if (options.MaxRequestBodySize is <= 0)
        {
            failures.Add($"{where}.MaxRequestBodySize: '{options.MaxRequestBodySize}' is not allowed; use a positive number of bytes, or leave it out for the gateway's limit.");
        }

        if (options.Runtime is { } runtime && !ContainerClassOptions.IsAllowedRuntime(runtime))
        {
            failures.Add(ContainerClassOptions.RuntimeError($"{where}.runtime", runtime));
        }

        if (options.RolloutStepPercentage is { } steps)
        {
            for (var i = 0; i < steps.Count; i++)
            {
                if (steps[i] is < 1 or > 100 || i > 0 && steps[i] <= steps[i - 1])
                {
                    failures.Add($"{where}.rollout_step_percentage: '{string.Join(", ", steps)}' is not allowed; use a number 1-100 or a strictly increasing list of them, such as [10, 100].");
                    break;
                }
            }
        }

        if (options.RolloutActiveGracePeriod < TimeSpan.Zero)
        {
            failures.Add($"{where}.rollout_active_grace_period: '{options.RolloutActiveGracePeriod.TotalSeconds}' is not allowed; use 0 or more seconds.");
        }

        if (options.RolloutStopGracePeriod <= TimeSpan.Zero || options.RolloutStopGracePeriod > ContainerClassOptions.MaxRolloutStopGracePeriod)
        {
            failures.Add($"{where}.rollout_stop_grace_period: '{options.RolloutStopGracePeriod.TotalSeconds}' is not allowed; use 1 to 900 seconds.");
        }

        failures.AddRange(options.Pool.Validate(where, options.MaxInstances));

        if (options.Image is { } image && string.IsNullOrWhiteSpace(image))
        {
            failures.Add($"{where}.image: is empty; set an image reference such as 'my-api:1.0', or leave it out to take it from the config file.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
