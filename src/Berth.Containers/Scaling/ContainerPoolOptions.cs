namespace Berth.Containers.Scaling;

/// <summary>
/// How a container class behaves when it is used as a pool (<c>ContainerNamespace&lt;T&gt;.GetPool()</c>, <c>MapPool&lt;T&gt;</c>):
/// how many instances it keeps, how it scales with the requests in flight, and how long requests wait for an instance.
/// The config fields sit next to <c>max_instances</c> in a <c>containers[]</c> entry. See docs/scaling.md.
/// </summary>
/// <remarks>
/// The autoscaler follows Knative's: every <see cref="TickInterval"/> it averages the requests in flight over the
/// <see cref="StableWindow"/> and the <see cref="PanicWindow"/>; the wanted instance count is
/// <c>ceil(average / TargetConcurrency)</c>, clamped to [<see cref="MinimumInstances"/>, <c>max_instances</c>]. When the
/// panic window's count reaches <see cref="PanicThreshold"/> times the running instances it scales up at once and does
/// not scale down until a whole stable window passes without panic. Scale-down waits <see cref="ScaleDownDelay"/>.
/// </remarks>
public sealed class ContainerPoolOptions
{
    /// <summary>Default of <see cref="TargetConcurrency"/>: 10 requests in flight per instance.</summary>
    public const int DefaultTargetConcurrency = 10;

    /// <summary>Default of <see cref="MaxQueuedRequests"/>: 100 requests.</summary>
    public const int DefaultMaxQueuedRequests = 100;

    /// <summary>Instances the pool keeps running even when idle (<c>minimum_instances</c>).</summary>
    /// <value>Defaults to 0: the pool scales to zero when idle. Between 0 and <c>max_instances</c>.</value>
    public int MinimumInstances { get; set; }

    /// <summary>Requests in flight each instance should carry (<c>target_concurrency</c>); more scale the pool up.</summary>
    /// <value>Defaults to <see cref="DefaultTargetConcurrency"/> (10). At least 1.</value>
    public int TargetConcurrency { get; set; } = DefaultTargetConcurrency;

    /// <summary>
    /// CPU use each instance should carry, in percent of one CPU core as <c>docker stats</c> shows it (<c>cpu_target</c>):
    /// when set, the pool also wants <c>ceil(total CPU percent of its instances / CpuTarget)</c> instances (averaged over the
    /// stable window) and runs the higher of that and the count from requests in flight. The CPU of each instance is sampled
    /// from the engine in the background; it also breaks ties between instances with the same requests in flight.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: only requests in flight drive scaling. Above 0 and at most 1000 when set.</value>
    public double? CpuTarget { get; set; }

    /// <summary>How long the demand must stay lower before the pool removes instances (<c>scale_down_delay</c>).</summary>
    /// <value>Defaults to 30 seconds. Zero or more.</value>
    public TimeSpan ScaleDownDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The window the autoscaler averages the requests in flight over for its ordinary decisions.</summary>
    /// <value>Defaults to 60 seconds (Knative's). Longer than <see cref="PanicWindow"/>.</value>
    public TimeSpan StableWindow { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The short window that detects a burst (panic mode).</summary>
    /// <value>Defaults to 6 seconds (Knative's: a tenth of the stable window). Positive and at least <see cref="TickInterval"/>.</value>
    public TimeSpan PanicWindow { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>
    /// The pool panics (scales up at once, never down) when the panic window's wanted instance count is at least this
    /// many times the running instances.
    /// </summary>
    /// <value>Defaults to 2.0 (200%, Knative's). At least 1.</value>
    public double PanicThreshold { get; set; } = 2.0;

    /// <summary>How often the autoscaler samples the pool and decides.</summary>
    /// <value>Defaults to 1 second. Positive.</value>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Most requests waiting for an instance while none runs (at zero, or while the first one starts)
    /// (<c>max_queued_requests</c>); one more is answered <c>503 queue_full</c> with <c>Retry-After</c>.
    /// </summary>
    /// <value>Defaults to <see cref="DefaultMaxQueuedRequests"/> (100). At least 1.</value>
    public int MaxQueuedRequests { get; set; } = DefaultMaxQueuedRequests;

    /// <summary>
    /// Longest a request waits for an instance (<c>queue_timeout</c>); then it is answered <c>503 queue_timeout</c> with
    /// <c>Retry-After</c>.
    /// </summary>
    /// <value>Defaults to 30 seconds. Positive.</value>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The problems of these settings, each naming the field and what is allowed; empty when they are valid.</summary>
    /// <param name="where">Where they come from, for example <c>containers[Worker]</c>.</param>
    /// <param name="maxInstances">The class's <c>max_instances</c>.</param>
    public IReadOnlyList<string> Validate(string where, int maxInstances)
    {
        var failures = new List<string>();
        if (MinimumInstances < 0 || MinimumInstances > maxInstances)
        {
            failures.Add($"{where}.minimum_instances: '{MinimumInstances}' is not allowed; use 0 to max_instances ({maxInstances}).");
        }

        if (TargetConcurrency < 1)
        {
            failures.Add($"{where}.target_concurrency: '{TargetConcurrency}' is not allowed; use 1 or more.");
        }

        if (CpuTarget is { } cpu && !(cpu > 0 && cpu <= 1000))
        {
            failures.Add($"{where}.cpu_target: '{cpu}' is not allowed; use a number of percent of one CPU core above 0 and at most 1000, or leave it out.");
        }

        if (ScaleDownDelay < TimeSpan.Zero)
        {
            failures.Add($"{where}.scale_down_delay: '{ScaleDownDelay}' is not allowed; use zero or a positive time span.");
        }

        if (TickInterval <= TimeSpan.Zero)
        {
            failures.Add($"{where}.Pool.TickInterval: '{TickInterval}' is not allowed; use a positive time span.");
        }

        if (PanicWindow < TickInterval)
        {
            failures.Add($"{where}.Pool.PanicWindow: '{PanicWindow}' is not allowed; use at least the tick interval ({TickInterval}).");
        }

        if (StableWindow <= PanicWindow)
        {
            failures.Add($"{where}.Pool.StableWindow: '{StableWindow}' is not allowed; use longer than the panic window ({PanicWindow}).");
        }

        if (!(PanicThreshold >= 1.0) || double.IsInfinity(PanicThreshold))
        {
            failures.Add($"{where}.Pool.PanicThreshold: '{PanicThreshold}' is not allowed; use a finite number of 1 or more.");
        }

        if (MaxQueuedRequests < 1)
        {
            failures.Add($"{where}.max_queued_requests: '{MaxQueuedRequests}' is not allowed; use 1 or more.");
        }

        if (QueueTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{where}.queue_timeout: '{QueueTimeout}' is not allowed; use a positive time span.");
        }

        return failures;
    }
}
