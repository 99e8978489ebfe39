using System.Diagnostics.Metrics;

namespace Berth.Objects;

/// <summary>
/// Durable objects' metrics: the meter named <see cref="Name"/>. The alarm scheduler records <c>berth.alarm.lag</c>, the
/// time from an alarm's due time to its dispatch, in seconds; the host adds <c>berth.storage.size</c> under the same name.
/// Recording costs nothing while nobody listens.
/// </summary>
public static class AlarmTelemetry
{
    /// <summary>The name of the durable objects' meter: <c>Berth.Objects</c>.</summary>
    public const string Name = "Berth.Objects";

    /// <summary>The histogram of alarm lag: <c>berth.alarm.lag</c>, seconds.</summary>
    public const string LagName = "berth.alarm.lag";

    private static readonly Meter Meter = new(Name);

    private static readonly Histogram<double> Lag = Meter.CreateHistogram(
        LagName, "s", "Time from an alarm's due time to its dispatch to the object (a re-delivery after a lost one counts from the end of its lease).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });

    /// <summary>Records that an alarm due at <paramref name="dueMs"/> fires at <paramref name="nowMs"/> (Unix milliseconds).</summary>
    internal static void RecordLag(long dueMs, long nowMs)
    {
        if (Lag.Enabled)
        {
            Lag.Record(Math.Max(0, nowMs - dueMs) / 1000.0);
        }
    }
}
