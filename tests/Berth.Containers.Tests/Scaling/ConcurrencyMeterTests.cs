using Berth.Containers.Scaling;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Containers.Tests.Scaling;

public sealed class ConcurrencyMeterTests
{
    [Fact]
    public void TakeAverage_ShortBurstBetweenReads_CountsItWeightedByTime()
    {
        var time = new FakeTimeProvider();
        var meter = new ConcurrencyMeter(time);

        // Four requests for a quarter of a one-second period: an average of 1, though none is in flight at the read.
        time.Advance(TimeSpan.FromMilliseconds(500));
        for (var i = 0; i < 4; i++)
        {
            meter.Enter();
        }

        time.Advance(TimeSpan.FromMilliseconds(250));
        for (var i = 0; i < 4; i++)
        {
            meter.Exit();
        }

        time.Advance(TimeSpan.FromMilliseconds(250));

        Assert.Equal(1.0, meter.TakeAverage(), 6);
        Assert.Equal(0, meter.Current);
    }

    [Fact]
    public void TakeAverage_SecondPeriod_StartsFromTheCurrentCount()
    {
        var time = new FakeTimeProvider();
        var meter = new ConcurrencyMeter(time);
        meter.Enter();
        meter.Enter();
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2.0, meter.TakeAverage(), 6);

        meter.Exit();
        time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(1.0, meter.TakeAverage(), 6);
    }
}
