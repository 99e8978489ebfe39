namespace Berth.Hosting;

/// <summary>
/// The <c>autoscaling</c> object of a <c>containers[]</c> entry (the seed platform's field): how the class scales when it is
/// used as a pool. Each field left out keeps what code set in <see cref="Berth.Containers.ContainerClassOptions.Pool"/>, else its
/// default. See docs/scaling.md.
/// </summary>
public sealed record AutoscalingConfig
{
    /// <summary>Instances kept running when idle (<c>minimum_instances</c>), 0 to <c>max_instances</c>.</summary>
    /// <value>Default: <see langword="null"/> (0: scale to zero).</value>
    public int? MinimumInstances { get; init; }

    /// <summary>Requests in flight per instance the pool aims at (<c>target_concurrency</c>), 1 or more.</summary>
    /// <value>Default: <see langword="null"/> (10).</value>
    public int? TargetConcurrency { get; init; }

    /// <summary>CPU use per instance the pool aims at, in percent of one CPU core (<c>cpu_target</c>), 1–1000.</summary>
    /// <value>Default: <see langword="null"/> (CPU does not drive scaling).</value>
    public double? CpuTarget { get; init; }

    /// <summary>How long demand must stay lower before instances are removed (<c>scale_down_delay</c>).</summary>
    /// <value>Default: <see langword="null"/> (30 seconds).</value>
    public TimeSpan? ScaleDownDelay { get; init; }

    /// <summary>Most requests waiting for an instance while none runs (<c>max_queued_requests</c>), 1 or more.</summary>
    /// <value>Default: <see langword="null"/> (100).</value>
    public int? MaxQueuedRequests { get; init; }

    /// <summary>Longest a request waits for an instance (<c>queue_timeout</c>).</summary>
    /// <value>Default: <see langword="null"/> (30 seconds).</value>
    public TimeSpan? QueueTimeout { get; init; }
}
