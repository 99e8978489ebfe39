namespace Berth.Containers.Scaling;

/// <summary>What the autoscaler decided at one tick, with the figures that drove it (for the log).</summary>
/// <param name="Desired">Instances the pool should run, within [minimum_instances, max_instances].</param>
/// <param name="Ready">Instances running when it decided.</param>
/// <param name="StableConcurrency">Average requests in flight over the stable window.</param>
/// <param name="PanicConcurrency">Average requests in flight over the panic window.</param>
/// <param name="StableWanted">
/// Instances the stable window asks for: <c>ceil(StableConcurrency / target_concurrency)</c>, or <paramref name="CpuWanted"/> when higher.
/// </param>
/// <param name="PanicWanted">Instances the panic window asks for: <c>ceil(PanicConcurrency / target_concurrency)</c>.</param>
/// <param name="Panic">Whether the pool is in panic mode (scales up at once, never down).</param>
/// <param name="StableCpuPercent">Average total CPU of the instances over the stable window, in percent of one core; 0 without <c>cpu_target</c>.</param>
/// <param name="CpuWanted">Instances the CPU asks for: <c>ceil(StableCpuPercent / cpu_target)</c>; 0 without <c>cpu_target</c>.</param>
public readonly record struct ScaleDecision(
    int Desired, int Ready, double StableConcurrency, double PanicConcurrency, int StableWanted, int PanicWanted, bool Panic,
    double StableCpuPercent = 0, int CpuWanted = 0);

/// <summary>
/// The pool's scaling decision as a pure function of the requests in flight it is shown and the time it is told, in the
/// manner of Knative's autoscaler: a stable window and a panic window of concurrency samples, panic mode when a burst
/// needs <see cref="ContainerPoolOptions.PanicThreshold"/> times the running instances, and scale-down held back by
/// <see cref="ContainerPoolOptions.ScaleDownDelay"/> (the highest count wanted within the delay wins).
/// </summary>
/// <remarks>Not thread-safe: one pool's tick loop calls it.</remarks>
public sealed class PoolAutoscaler
{
    private readonly ContainerPoolOptions _options;
    private readonly int _maxInstances;
    private readonly Queue<(DateTimeOffset At, double Concurrency, double Cpu)> _samples = new();
    private readonly LinkedList<(DateTimeOffset At, int Wanted)> _recent = new();
    private DateTimeOffset? _panicSince;
    private int _panicHigh;

    /// <summary>Creates the autoscaler of one pool.</summary>
    /// <param name="options">The pool's settings (validated).</param>
    /// <param name="maxInstances">The class's <c>max_instances</c> (at least 1).</param>
    public PoolAutoscaler(ContainerPoolOptions options, int maxInstances)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInstances, 1);
        _options = options;
        _maxInstances = maxInstances;
    }

    /// <summary>Whether the last decision was taken in panic mode.</summary>
    public bool InPanic => _panicSince is not null;

    /// <summary>
    /// Records the average requests in flight since the previous tick and decides how many instances the pool should run.
    /// </summary>
    /// <param name="now">The time of this tick (from the pool's <see cref="TimeProvider"/>).</param>
    /// <param name="concurrency">Average requests in flight (served or waiting) since the previous tick; 0 or more.</param>
    /// <param name="ready">Instances running now.</param>
    /// <param name="cpuPercent">
    /// Total CPU of the running instances, in percent of one core (two instances at half a core each: 100); only used with
    /// <see cref="ContainerPoolOptions.CpuTarget"/>.
    /// </param>
    public ScaleDecision Decide(DateTimeOffset now, double concurrency, int ready, double cpuPercent = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(concurrency);
        ArgumentOutOfRangeException.ThrowIfNegative(ready);
        ArgumentOutOfRangeException.ThrowIfNegative(cpuPercent);
        _samples.Enqueue((now, concurrency, cpuPercent));
        while (_samples.Count > 0 && _samples.Peek().At <= now - _options.StableWindow)
        {
            _samples.Dequeue();
        }

        var stable = Average(now - _options.StableWindow, cpu: false);
        var panic = Average(now - _options.PanicWindow, cpu: false);
        var panicWanted = Wanted(panic, _options.TargetConcurrency);
        var stableCpu = _options.CpuTarget is null ? 0 : Average(now - _options.StableWindow, cpu: true);
        // CPU counts only while requests come: an idle instance's background CPU must not keep the pool from scaling to zero.
        var cpuWanted = _options.CpuTarget is { } cpuTarget && stable > 0 ? Wanted(stableCpu, cpuTarget) : 0;
        var stableWanted = Math.Max(Wanted(stable, _options.TargetConcurrency), cpuWanted);

        // Knative: panic when the burst needs PanicThreshold times the instances that run (at least one counts as running).
        if (panicWanted > 0 && panicWanted / (double)Math.Max(1, ready) >= _options.PanicThreshold)
        {
            _panicSince = now;
        }
        else if (_panicSince is { } since && now - since >= _options.StableWindow)
        {
            _panicSince = null;
            _panicHigh = 0;
        }

        int wanted;
        if (_panicSince is not null)
        {
            // In panic the count only goes up: never below the highest the panic window asked for.
            _panicHigh = Math.Max(_panicHigh, Math.Max(panicWanted, stableWanted));
            wanted = _panicHigh;
        }
        else
        {
            wanted = stableWanted;
        }

        // Scale-down delay: the highest count wanted within the delay holds (a max over a sliding window).
        while (_recent.First is { } first && first.Value.At <= now - _options.ScaleDownDelay)
        {
            _recent.RemoveFirst();
        }

        while (_recent.Last is { } last && last.Value.Wanted <= wanted)
        {
            _recent.RemoveLast();
        }

        _recent.AddLast((now, wanted));
        var desired = _recent.First!.Value.Wanted;

        // Never below what the panic window demands right now.
        desired = Math.Max(desired, panicWanted);
        desired = Math.Clamp(desired, Math.Min(_options.MinimumInstances, _maxInstances), _maxInstances);
        return new ScaleDecision(desired, ready, stable, panic, stableWanted, panicWanted, _panicSince is not null, stableCpu, cpuWanted);
    }

    private double Average(DateTimeOffset after, bool cpu)
    {
        double sum = 0;
        var count = 0;
        foreach (var (at, concurrency, cpuPercent) in _samples)
        {
            if (at > after)
            {
                sum += cpu ? cpuPercent : concurrency;
                count++;
            }
        }

        return count == 0 ? 0 : sum / count;
    }

    private int Wanted(double load, double target)
    {
        if (load <= 0)
        {
            return 0;
        }

        // A hair of tolerance so 20.0000001 / 10 is 2 instances, not 3.
        var wanted = Math.Ceiling((load / target) - 1e-9);
        return wanted >= _maxInstances ? _maxInstances : Math.Max(1, (int)wanted);
    }
}
