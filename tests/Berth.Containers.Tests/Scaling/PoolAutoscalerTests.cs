using Berth.Containers.Scaling;

namespace Berth.Containers.Tests.Scaling;

public sealed class PoolAutoscalerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static ContainerPoolOptions Options(int minimum = 0, int target = 10, int scaleDownSeconds = 30, double? cpuTarget = null) => new()
    {
        MinimumInstances = minimum,
        TargetConcurrency = target,
        ScaleDownDelay = TimeSpan.FromSeconds(scaleDownSeconds),
        StableWindow = TimeSpan.FromSeconds(60),
        PanicWindow = TimeSpan.FromSeconds(6),
        TickInterval = TimeSpan.FromSeconds(1),
        CpuTarget = cpuTarget,
    };

    /// <summary>Feeds one sample per second from <paramref name="from"/> for <paramref name="seconds"/> seconds; returns the last decision.</summary>
    private static ScaleDecision Run(PoolAutoscaler scaler, int from, int seconds, double concurrency, Func<int, int>? ready = null, double cpu = 0)
    {
        ScaleDecision last = default;
        var current = ready?.Invoke(0) ?? 1;
        for (var s = from; s < from + seconds; s++)
        {
            last = scaler.Decide(T0.AddSeconds(s), concurrency, ready is null ? current : ready(last.Desired), cpu);
            current = last.Desired;
        }

        return last;
    }

    [Fact]
    public void Decide_SteadyLoad_WantsCeilOfConcurrencyOverTarget()
    {
        var scaler = new PoolAutoscaler(Options(), maxInstances: 20);

        var decision = Run(scaler, 0, 120, concurrency: 25, ready: d => Math.Max(d, 3));

        Assert.Equal(3, decision.Desired);
        Assert.Equal(25, decision.StableConcurrency, 6);
        Assert.False(decision.Panic);
    }

    [Fact]
    public void Decide_ExactMultipleOfTarget_DoesNotRoundUpAnExtraInstance()
    {
        var scaler = new PoolAutoscaler(Options(), maxInstances: 20);

        var decision = Run(scaler, 0, 70, concurrency: 20, ready: _ => 2);

        Assert.Equal(2, decision.Desired);
    }

    [Fact]
    public void Decide_BurstTwiceCapacity_PanicsAndScalesUpWithinTheTick()
    {
        var scaler = new PoolAutoscaler(Options(), maxInstances: 20);
        Run(scaler, 0, 60, concurrency: 5, ready: _ => 1);

        // 60 s of 5 in flight, then 40: the stable average barely moves, the panic window sees the burst at once.
        var decision = scaler.Decide(T0.AddSeconds(60), 40, ready: 1);

        Assert.True(decision.Panic);
        Assert.True(decision.PanicWanted >= 2, $"panic wanted {decision.PanicWanted}");
        Assert.Equal(decision.PanicWanted, decision.Desired);
        Assert.True(decision.StableWanted < decision.Desired, $"stable wanted {decision.StableWanted}");
    }

    [Fact]
    public void Decide_BelowPanicThreshold_FollowsTheStableWindow()
    {
        var scaler = new PoolAutoscaler(Options(), maxInstances: 20);
        Run(scaler, 0, 60, concurrency: 10, ready: _ => 1);

        // 15 in flight on 1 instance needs 2: 2 / 1 reaches the 200% threshold, 1.5 instances' worth does not need panic…
        var decision = scaler.Decide(T0.AddSeconds(60), 15, ready: 2);

        Assert.False(decision.Panic);
        Assert.Equal(2, decision.Desired);
    }

    [Fact]
    public void Decide_InPanic_NeverScalesDownUntilAStableWindowWithoutPanic()
    {
        var scaler = new PoolAutoscaler(Options(scaleDownSeconds: 0), maxInstances: 20);
        var burst = Run(scaler, 0, 3, concurrency: 80, ready: _ => 1);
        Assert.True(burst.Panic);
        Assert.Equal(8, burst.Desired);

        // The load drops to nothing: while panic lasts (60 s from its last trigger) the count holds.
        var during = Run(scaler, 3, 50, concurrency: 0, ready: _ => 8);
        Assert.True(during.Panic);
        Assert.Equal(8, during.Desired);

        var after = Run(scaler, 53, 70, concurrency: 0, ready: _ => 8);
        Assert.False(after.Panic);
        Assert.Equal(0, after.Desired);
    }

    [Fact]
    public void Decide_LoadDrops_HoldsTheCountForTheScaleDownDelay()
    {
        var scaler = new PoolAutoscaler(Shorten(Options(scaleDownSeconds: 30)), maxInstances: 20);
        Run(scaler, 0, 20, concurrency: 30, ready: _ => 3);

        // From t=20 the load is 10. The stable window (10 s here) last wants 3 at t=23 (average 22) and 2 at t=28;
        // from t=29 it wants 1. The delay (30 s) holds each for 30 s: 3 until t=53, 2 until t=58.
        var held = Run(scaler, 20, 33, concurrency: 10, ready: _ => 3);
        Assert.Equal(3, held.Desired);
        Assert.Equal(1, held.StableWanted);

        Assert.Equal(2, Run(scaler, 53, 5, concurrency: 10, ready: _ => 3).Desired);
        Assert.Equal(1, Run(scaler, 58, 5, concurrency: 10, ready: _ => 3).Desired);
    }

    [Fact]
    public void Decide_IdleWithMinimumZero_ScalesToZeroAfterWindowAndDelay()
    {
        var scaler = new PoolAutoscaler(Shorten(Options(scaleDownSeconds: 5)), maxInstances: 20);
        Run(scaler, 0, 10, concurrency: 1, ready: _ => 1);

        // Idle from t=10: the stable window (10 s) still averages some load until t=19, then the delay (5 s) holds 1.
        Assert.Equal(1, Run(scaler, 10, 13, concurrency: 0).Desired);
        Assert.Equal(0, Run(scaler, 23, 3, concurrency: 0).Desired);
    }

    [Fact]
    public void Decide_IdleWithMinimum_NeverGoesBelowIt()
    {
        var scaler = new PoolAutoscaler(Options(minimum: 2, scaleDownSeconds: 0), maxInstances: 20);

        Assert.Equal(2, Run(scaler, 0, 200, concurrency: 0, ready: _ => 2).Desired);
    }

    [Fact]
    public void Decide_DemandAboveMax_ClampsToMaxInstances()
    {
        var scaler = new PoolAutoscaler(Options(), maxInstances: 4);

        var decision = Run(scaler, 0, 10, concurrency: 1000, ready: _ => 4);

        Assert.Equal(4, decision.Desired);
    }

    [Fact]
    public void Decide_AnyLoadAtZero_WantsOneInstance()
    {
        var scaler = new PoolAutoscaler(Options(), maxInstances: 20);

        var decision = scaler.Decide(T0, 0.01, ready: 0);

        Assert.Equal(1, decision.Desired);
    }

    [Fact]
    public void Decide_CpuAboveTarget_WantsMoreThanConcurrencyAlone()
    {
        var scaler = new PoolAutoscaler(Options(cpuTarget: 75), maxInstances: 20);

        // 2 in flight wants 1 instance by concurrency; 300% CPU at a 75% target wants 4.
        var decision = Run(scaler, 0, 70, concurrency: 2, ready: _ => 1, cpu: 300);

        Assert.Equal(4, decision.CpuWanted);
        Assert.Equal(4, decision.Desired);
    }

    [Fact]
    public void Decide_CpuWithoutRequests_DoesNotKeepThePoolUp()
    {
        var scaler = new PoolAutoscaler(Options(cpuTarget: 75, scaleDownSeconds: 0), maxInstances: 20);

        var decision = Run(scaler, 0, 70, concurrency: 0, ready: _ => 1, cpu: 3);

        Assert.Equal(0, decision.Desired);
    }

    private static ContainerPoolOptions Shorten(ContainerPoolOptions options)
    {
        options.StableWindow = TimeSpan.FromSeconds(10);
        options.PanicWindow = TimeSpan.FromSeconds(2);
        return options;
    }
}
