using System.Collections.Concurrent;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Containers.Tests.Disk;

public sealed class ContainerDiskWatchTests
{
    private const long Mb = 1_000_000;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Measure_LayerOverLimit_KillsWithSigkillAndKeepsVerdict()
    {
        var runtime = new DiskRuntime();
        runtime.Written["a"] = 200 * Mb;
        using var watch = NewWatch(runtime, out _);
        watch.Watch("a", 50 * Mb, "Api", "one");

        await watch.MeasureAsync(CancellationToken.None);

        Assert.Equal([("a", ContainerSignal.SIGKILL)], runtime.Signals);
        var verdict = watch.TakeVerdict("a");
        Assert.NotNull(verdict);
        Assert.Equal("wrote 200 MB to its writable layer, over its 50 MB disk", verdict.Reason);
        Assert.Equal(0, watch.Count);
    }

    [Fact]
    public async Task Measure_LayerUnderOrAtLimit_LeftRunning()
    {
        var runtime = new DiskRuntime();
        runtime.Written["a"] = 49 * Mb;
        runtime.Written["b"] = 50 * Mb;
        using var watch = NewWatch(runtime, out _);
        watch.Watch("a", 50 * Mb, "Api", "one");
        watch.Watch("b", 50 * Mb, "Api", "two");

        await watch.MeasureAsync(CancellationToken.None);

        Assert.Empty(runtime.Signals);
        Assert.Equal(2, watch.Count);
        Assert.Null(watch.TakeVerdict("a"));
    }

    [Fact]
    public async Task Measure_ContainerGoneMidMeasure_NoErrorAndForgotten()
    {
        var runtime = new DiskRuntime();
        runtime.Written["gone"] = 500 * Mb;
        runtime.Written["next"] = 500 * Mb;
        runtime.Vanish.Add("gone");
        using var watch = NewWatch(runtime, out _);
        watch.Watch("gone", 50 * Mb, "Api", "one");
        watch.Watch("next", 50 * Mb, "Api", "two");

        await watch.MeasureAsync(CancellationToken.None);

        // The vanished one is dropped without a kill or a verdict; the pass still reaches the other one.
        Assert.Equal([("next", ContainerSignal.SIGKILL)], runtime.Signals);
        Assert.Null(watch.TakeVerdict("gone"));
        Assert.NotNull(watch.TakeVerdict("next"));
    }

    [Fact]
    public async Task Measure_KilledBetweenMeasureAndSignal_NoErrorAndVerdictKept()
    {
        var runtime = new DiskRuntime { SignalNotFound = true };
        runtime.Written["a"] = 500 * Mb;
        using var watch = NewWatch(runtime, out _);
        watch.Watch("a", 50 * Mb, "Api", "one");

        await watch.MeasureAsync(CancellationToken.None);

        Assert.Equal(0, watch.Count);
        Assert.NotNull(watch.TakeVerdict("a"));
    }

    [Fact]
    public async Task Measure_EngineEnforcesDiskLimits_MeasuresNothing()
    {
        var runtime = new DiskRuntime { Enforces = true };
        runtime.Written["a"] = 500 * Mb;
        using var watch = NewWatch(runtime, out _);
        watch.Watch("a", 50 * Mb, "Api", "one");

        await watch.MeasureAsync(CancellationToken.None);

        Assert.Equal(0, runtime.Measures);
        Assert.Empty(runtime.Signals);
    }

    [Fact]
    public async Task TakeVerdict_ContainerStoppedBeforeMeasure_NotMeasured()
    {
        var runtime = new DiskRuntime();
        runtime.Written["a"] = 500 * Mb;
        using var watch = NewWatch(runtime, out _);
        watch.Watch("a", 50 * Mb, "Api", "one");

        Assert.Null(watch.TakeVerdict("a"));
        await watch.MeasureAsync(CancellationToken.None);

        Assert.Equal(0, runtime.Measures);
        Assert.Empty(runtime.Signals);
    }

    [Fact]
    public async Task Timer_IntervalPasses_MeasuresOnTheClock()
    {
        var runtime = new DiskRuntime();
        runtime.Written["a"] = 500 * Mb;
        using var watch = NewWatch(runtime, out var time);
        watch.Watch("a", 50 * Mb, "Api", "one");

        time.Advance(Interval - TimeSpan.FromMilliseconds(1));
        await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
        Assert.Equal(0, runtime.Measures);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.ValueAsync(() => Task.FromResult(runtime.Signals.Count), n => n > 0, "the kill", TimeSpan.FromSeconds(10));

        Assert.Equal([("a", ContainerSignal.SIGKILL)], runtime.Signals);
    }

    [Fact]
    public async Task Timer_PassStillMeasuring_OneMeasureAtATime()
    {
        var runtime = new DiskRuntime { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        runtime.Written["a"] = 1 * Mb;
        runtime.Written["b"] = 1 * Mb;
        using var watch = NewWatch(runtime, out var time);
        watch.Watch("a", 50 * Mb, "Api", "one");
        watch.Watch("b", 50 * Mb, "Api", "two");

        for (var i = 0; i < 5; i++)
        {
            time.Advance(Interval);
        }

        await Eventually.ValueAsync(() => Task.FromResult(Volatile.Read(ref runtime.Measures)), n => n > 0, "the first measure", TimeSpan.FromSeconds(10));

        // Five ticks passed, but the first pass still waits on its first container: no other measure started.
        await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System);
        Assert.Equal(1, Volatile.Read(ref runtime.Measures));
        runtime.Gate.SetResult();
        await watch.MeasureAsync(CancellationToken.None);
        Assert.Equal(1, runtime.MaxConcurrent);
        Assert.Equal(4, Volatile.Read(ref runtime.Measures));
    }

    [Theory]
    [InlineData(0.05)]
    [InlineData(601)]
    public void Validate_DiskWatchIntervalOutOfRange_NamesField(double seconds)
    {
        var result = new ContainerOptionsValidator().Validate(null, new ContainerOptions { NodeId = "n1", DiskWatchInterval = TimeSpan.FromSeconds(seconds) });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("Berth:Containers:DiskWatchInterval:", StringComparison.Ordinal));
    }

    private static ContainerDiskWatch NewWatch(DiskRuntime runtime, out FakeTimeProvider time)
    {
        time = new FakeTimeProvider();
        return new ContainerDiskWatch(runtime, Options.Create(new ContainerOptions { NodeId = "n1", DiskWatchInterval = Interval }), time);
    }

    /// <summary>An engine whose containers' writable layers are what the test says.</summary>
    private sealed class DiskRuntime : IContainerOperations, IContainerDiskUsage
    {
        private int _concurrent;

        public ConcurrentDictionary<string, long> Written { get; } = new();

        public HashSet<string> Vanish { get; } = [];

        public ConcurrentQueue<(string, ContainerSignal)> Signals { get; } = new();

        public bool Enforces { get; init; }

        public bool SignalNotFound { get; init; }

        public TaskCompletionSource? Gate { get; init; }

        public int Measures;

        public int MaxConcurrent;

        public Task<bool> SupportsDiskLimitsAsync(CancellationToken cancellationToken = default) => Task.FromResult(Enforces);

        public async Task<long?> GetWritableLayerBytesAsync(string containerId, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Measures);
            var now = Interlocked.Increment(ref _concurrent);
            InterlockedMax(ref MaxConcurrent, now);
            try
            {
                if (Gate is { } gate)
                {
                    await gate.Task.WaitAsync(cancellationToken);
                }

                if (Vanish.Contains(containerId))
                {
                    throw new ContainerRuntimeException(ContainerRuntimeError.ContainerNotFound, $"Container '{containerId}' does not exist.");
                }

                return Written.TryGetValue(containerId, out var bytes) ? bytes : null;
            }
            finally
            {
                Interlocked.Decrement(ref _concurrent);
            }
        }

        public Task SignalAsync(string containerId, ContainerSignal signal, CancellationToken cancellationToken = default)
        {
            if (SignalNotFound)
            {
                throw new ContainerRuntimeException(ContainerRuntimeError.ContainerNotFound, $"Container '{containerId}' does not exist.");
            }

            Signals.Enqueue((containerId, signal));
            return Task.CompletedTask;
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }

        public Task<string> CreateAsync(ContainerSpec spec, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task StartAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<ContainerInspection?> InspectAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<ContainerExit> WaitForExitAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<ContainerExit> StopAsync(string containerId, StopOptions options, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task RemoveAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<ContainerSummary>> ListAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }
}
