using System.Diagnostics;

namespace Berth.Objects.Tests;

public sealed class LifecycleTests
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task IdleObject_AfterIdleTimeout_Deactivates()
    {
        await using var silo = await TestSilo.StartAsync(o => o.IdleTimeout = IdleTimeout);
        var id = silo.Counters.IdFromName("idle");
        var started = Stopwatch.StartNew();
        await silo.Counters.Get(id).IncrementAsync(1);

        await silo.Probe.Deactivated.Reader.ReadWithinAsync(TimeSpan.FromSeconds(15), d => d == id.ToString());

        Assert.True(started.Elapsed >= IdleTimeout, $"deactivated after {started.Elapsed}");
        Assert.Equal(1, await silo.Counters.Get(id).GetAsync()); // reactivates from storage
        Assert.Equal(2, silo.Probe.Activations[id.ToString()]);
    }

    [Fact]
    public async Task ObjectMidRequest_LongerThanIdleTimeout_IsNotDeactivated()
    {
        await using var silo = await TestSilo.StartAsync(o => o.IdleTimeout = IdleTimeout);
        var busyId = silo.Counters.IdFromName("busy").ToString();
        var idleId = silo.Counters.IdFromName("control").ToString();
        await silo.Counters.GetByName("control").IncrementAsync(1);
        var request = silo.Counters.GetByName("busy").WaitForReleaseAsync();

        // The control object going idle at the same time proves the collector has run past the timeout.
        await silo.Probe.Deactivated.Reader.ReadWithinAsync(TimeSpan.FromSeconds(15), d => d == idleId);
        await Task.Delay(IdleTimeout); // and one more quantum or two on top

        Assert.False(request.IsCompleted);
        Assert.False(silo.Probe.Deactivations.ContainsKey(busyId));
        silo.Probe.Release(busyId).SetResult();
        Assert.Equal("released", await request);
        Assert.Equal(1, silo.Probe.Activations[busyId]);
        await silo.Probe.Deactivated.Reader.ReadWithinAsync(TimeSpan.FromSeconds(15), d => d == busyId); // idle once done
    }

    [Fact]
    public async Task Start_InvalidOptions_FailsNamingTheOption()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TestSilo.StartAsync(o => o.IdleTimeout = TimeSpan.FromMilliseconds(10)));

        Assert.Contains("DurableObjectOptions.IdleTimeout", error.Message, StringComparison.Ordinal);
    }
}
