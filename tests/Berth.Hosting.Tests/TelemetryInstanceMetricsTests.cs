using System.Diagnostics.Metrics;
using Berth.Containers;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Hosting.Tests;

public sealed class TelemetryInstanceMetricsTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void OnStateChanged_StartReadyStopSleep_CountsFollowEachObject()
    {
        var metrics = new ContainerInstanceMetrics(meterFactory: null);

        metrics.OnStateChanged(Change("Api", "a", ContainerObjectState.Stopped, ContainerObjectState.Running));
        metrics.OnStateChanged(Change("Api", "b", ContainerObjectState.Stopped, ContainerObjectState.Running));
        Assert.Equal([2, 0, 0, 0], metrics.Snapshot()["Api"]);

        metrics.OnStateChanged(Change("Api", "a", ContainerObjectState.Running, ContainerObjectState.Healthy, TimeSpan.FromSeconds(1)));
        metrics.OnStateChanged(Change("Api", "b", ContainerObjectState.Running, ContainerObjectState.Healthy, TimeSpan.FromSeconds(1)));
        metrics.OnStateChanged(Change("Api", "a", ContainerObjectState.Healthy, ContainerObjectState.Stopping));
        Assert.Equal([0, 1, 1, 0], metrics.Snapshot()["Api"]);

        metrics.OnStateChanged(Change("Api", "a", ContainerObjectState.Stopping, ContainerObjectState.Stopped));
        metrics.OnStateChanged(Change("Api", "b", ContainerObjectState.Healthy, ContainerObjectState.StoppedWithCode));
        Assert.Equal([0, 0, 0, 2], metrics.Snapshot()["Api"]);
    }

    [Fact]
    public void OnStateChanged_RepeatedOrMissedChanges_CountsFromItsOwnLastStateNotTheReportedPrevious()
    {
        var metrics = new ContainerInstanceMetrics(meterFactory: null);

        // The observer keeps each object's last state, so a change it saw twice or one it missed cannot drift the counts.
        metrics.OnStateChanged(Change("Api", "a", ContainerObjectState.Stopped, ContainerObjectState.Healthy));
        metrics.OnStateChanged(Change("Api", "a", ContainerObjectState.Stopped, ContainerObjectState.Healthy));
        metrics.OnStateChanged(Change("Worker", "a", ContainerObjectState.Stopped, ContainerObjectState.Running));

        var snapshot = metrics.Snapshot();
        Assert.Equal([0, 1, 0, 0], snapshot["Api"]);
        Assert.Equal([1, 0, 0, 0], snapshot["Worker"]);
    }

    [Fact]
    public void OnStateChanged_ColdStartAndWarmReady_StartsCountedOnceAndDurationRecordedInSeconds()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var metrics = new ContainerInstanceMetrics(factory);
        var starts = new List<long>();
        var durations = new List<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "berth.container.starts")
            {
                starts.Add(value);
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "berth.container.cold_start.duration")
            {
                Assert.Equal(new KeyValuePair<string, object?>(ContainerTelemetry.ClassTag, "Api"), Assert.Single(tags.ToArray()));
                durations.Add(value);
            }
        });
        listener.Start();

        metrics.OnStateChanged(Change("Api", "a", ContainerObjectState.Stopped, ContainerObjectState.Running));
        metrics.OnStateChanged(Change("Api", "a", ContainerObjectState.Running, ContainerObjectState.Healthy, TimeSpan.FromMilliseconds(1500)));
        // Ready again without a new start (a port became ready): not a start.
        metrics.OnStateChanged(Change("Api", "a", ContainerObjectState.Healthy, ContainerObjectState.Healthy));

        Assert.Equal([1L], starts);
        Assert.Equal([1.5], durations);
    }

    private static ContainerStateChange Change(string className, string objectId, ContainerObjectState previous, ContainerObjectState state, TimeSpan? startDuration = null) =>
        new("app", "node", className, objectId, null, "c1", previous, state, null, null, null, At, startDuration, 0);
}
