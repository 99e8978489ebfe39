namespace Berth.Containers.Tests;

public sealed class ContainerLeaseRegistryTests
{
    private readonly ContainerLeaseRegistry _registry = new(TimeProvider.System);

    [Fact]
    public void TryReserveInstance_UpToMax_SucceedsThenRefuses()
    {
        Assert.True(_registry.TryReserveInstance("Api", 2));
        Assert.True(_registry.TryReserveInstance("Api", 2));

        Assert.False(_registry.TryReserveInstance("Api", 2));
        Assert.Equal(2, _registry.RunningCount("Api"));
    }

    [Fact]
    public void TryReserveInstance_AfterRelease_SucceedsAgain()
    {
        Assert.True(_registry.TryReserveInstance("Api", 1));
        Assert.False(_registry.TryReserveInstance("Api", 1));

        _registry.ReleaseInstance("Api");

        Assert.Equal(0, _registry.RunningCount("Api"));
        Assert.True(_registry.TryReserveInstance("Api", 1));
    }

    [Fact]
    public void TryReserveInstance_OtherClass_CountsSeparately()
    {
        Assert.True(_registry.TryReserveInstance("Api", 1));

        Assert.True(_registry.TryReserveInstance("Sandbox", 1));
        Assert.Equal(1, _registry.RunningCount("Api"));
        Assert.Equal(1, _registry.RunningCount("Sandbox"));
    }

    [Fact]
    public void TryReserveInstance_MaxZero_Refuses()
    {
        Assert.False(_registry.TryReserveInstance("Api", 0));
        Assert.Equal(0, _registry.RunningCount("Api"));
    }

    [Fact]
    public void RunningCount_UnknownClass_IsZero() => Assert.Equal(0, _registry.RunningCount("Nope"));

    [Fact]
    public void ReleaseInstance_UnknownClass_DoesNothing()
    {
        _registry.ReleaseInstance("Nope");

        Assert.Equal(0, _registry.RunningCount("Nope"));
    }

    [Fact]
    public async Task TryReserveInstance_ManyThreads_NeverExceedsMax()
    {
        const int max = 7;
        var threads = Math.Max(4, Environment.ProcessorCount * 2);
        using var start = new Barrier(threads);
        var granted = 0;

        var workers = Enumerable.Range(0, threads).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < 1_000; i++)
            {
                if (_registry.TryReserveInstance("Api", max))
                {
                    Interlocked.Increment(ref granted);
                }
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(max, granted);
        Assert.Equal(max, _registry.RunningCount("Api"));
    }

    [Fact]
    public async Task TryReserveInstance_ReserveAndReleaseFromManyThreads_HoldsBoundAndReturnsToZero()
    {
        const int max = 3;
        var threads = Math.Max(4, Environment.ProcessorCount * 2);
        using var start = new Barrier(threads);
        var holding = 0;
        var peak = 0;
        var overBound = 0;

        var workers = Enumerable.Range(0, threads).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < 20_000; i++)
            {
                if (!_registry.TryReserveInstance("Api", max))
                {
                    continue;
                }

                var now = Interlocked.Increment(ref holding);
                if (now > max)
                {
                    Interlocked.Increment(ref overBound);
                }

                InterlockedMax(ref peak, now);
                Interlocked.Decrement(ref holding);
                _registry.ReleaseInstance("Api");
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(0, overBound);
        Assert.InRange(peak, 1, max);
        Assert.Equal(0, _registry.RunningCount("Api"));
    }

    [Fact]
    public void GetOrAdd_SameKey_ReturnsSameLeaseAndFindSeesIt()
    {
        var lease = _registry.GetOrAdd("Api", "obj-1");

        Assert.Same(lease, _registry.GetOrAdd("Api", "obj-1"));
        Assert.Same(lease, _registry.Find("Api", "obj-1"));
        Assert.Null(_registry.Find("Api", "obj-2"));
        Assert.Null(_registry.Find("Other", "obj-1"));
    }

    [Fact]
    public void Remove_OtherLeaseInstance_KeepsTheCurrentOne()
    {
        var old = _registry.GetOrAdd("Api", "obj-1");
        _registry.Remove("Api", "obj-1", old);
        var current = _registry.GetOrAdd("Api", "obj-1");

        // A late removal by the previous owner must not drop the new lease.
        _registry.Remove("Api", "obj-1", old);

        Assert.NotSame(old, current);
        Assert.Same(current, _registry.Find("Api", "obj-1"));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
