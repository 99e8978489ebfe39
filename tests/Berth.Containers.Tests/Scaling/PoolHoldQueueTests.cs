using Berth.Containers.Scaling;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Containers.Tests.Scaling;

public sealed class PoolHoldQueueTests
{
    [Fact]
    public async Task WaitAsync_ConditionHolds_AdmitsWithoutWaiting()
    {
        var queue = new PoolHoldQueue(1, TimeSpan.FromSeconds(5), new FakeTimeProvider());

        Assert.Equal(HoldOutcome.Admitted, await queue.WaitAsync(() => true, CancellationToken.None));
        Assert.Equal(0, queue.Waiting);
    }

    [Fact]
    public async Task WaitAsync_OverCapacity_AnswersFullAtOnce()
    {
        var queue = new PoolHoldQueue(2, TimeSpan.FromSeconds(5), new FakeTimeProvider());
        var first = queue.WaitAsync(() => false, CancellationToken.None);
        var second = queue.WaitAsync(() => false, CancellationToken.None);

        var third = await queue.WaitAsync(() => false, CancellationToken.None);

        Assert.Equal(HoldOutcome.Full, third);
        Assert.Equal(2, queue.Waiting);
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);
    }

    [Fact]
    public async Task WaitAsync_NothingReleases_TimesOutAfterTheTimeoutAndLeaves()
    {
        var time = new FakeTimeProvider();
        var queue = new PoolHoldQueue(5, TimeSpan.FromSeconds(3), time);
        var wait = queue.WaitAsync(() => false, CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(2.9));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.2));

        Assert.Equal(HoldOutcome.TimedOut, await wait.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, queue.Waiting);
    }

    [Fact]
    public async Task WaitAsync_ReleaseAfterTheConditionHolds_Admits()
    {
        var queue = new PoolHoldQueue(5, TimeSpan.FromSeconds(30), new FakeTimeProvider());
        var ready = false;
        var checks = 0;
        var wait = queue.WaitAsync(() => { Interlocked.Increment(ref checks); return Volatile.Read(ref ready); }, CancellationToken.None);
        Assert.False(wait.IsCompleted);

        Volatile.Write(ref ready, true);
        queue.Release();

        Assert.Equal(HoldOutcome.Admitted, await wait.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, checks);
        Assert.Equal(0, queue.Waiting);
    }

    [Fact]
    public async Task WaitAsync_ClientCancels_ThrowsAndFreesItsPlace()
    {
        var queue = new PoolHoldQueue(1, TimeSpan.FromSeconds(30), new FakeTimeProvider());
        using var client = new CancellationTokenSource();
        var wait = queue.WaitAsync(() => false, client.Token);
        Assert.Equal(1, queue.Waiting);

        await client.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, queue.Waiting);
        // The place is free again: the next waiter is admitted into the queue rather than refused as full.
        Assert.Equal(HoldOutcome.Admitted, await queue.WaitAsync(() => true, CancellationToken.None));
    }

    [Fact]
    public async Task WaitAsync_Fail_WakesEveryWaiterWithFailed()
    {
        var queue = new PoolHoldQueue(5, TimeSpan.FromSeconds(30), new FakeTimeProvider());
        var waits = Enumerable.Range(0, 3).Select(_ => queue.WaitAsync(() => false, CancellationToken.None)).ToArray();

        queue.Fail();

        Assert.All(await Task.WhenAll(waits).WaitAsync(TimeSpan.FromSeconds(10)), outcome => Assert.Equal(HoldOutcome.Failed, outcome));
        Assert.Equal(0, queue.Waiting);
    }
}
