using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Berth.Docker;

/// <summary>
/// The engine driver's metrics and traces: the meter and activity source named <see cref="Name"/>. Both cost nothing
/// while nobody listens (no <c>MeterListener</c>, no <c>ActivityListener</c>).
/// </summary>
public static class DockerTelemetry
{
    /// <summary>The name of the driver's <see cref="System.Diagnostics.Metrics.Meter"/> and <see cref="ActivitySource"/>: <c>Berth.Docker</c>.</summary>
    public const string Name = "Berth.Docker";

    /// <summary>The histogram of engine API calls: <c>berth.engine.call.duration</c>, seconds, tagged <c>berth.engine.operation</c>.</summary>
    public const string CallDurationName = "berth.engine.call.duration";

    /// <summary>The tag naming the engine operation (<c>create</c>, <c>start</c>, <c>stop</c>, …).</summary>
    public const string OperationTag = "berth.engine.operation";

    internal static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Histogram<double> CallDuration = Meter.CreateHistogram(
        CallDurationName, "s", "Duration of Docker Engine API calls made by Berth's driver.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });

    /// <summary>Starts timing (and, when listened to, tracing) one engine call; dispose the result when the call ends.</summary>
    /// <param name="time">The clock.</param>
    /// <param name="operation">A fixed operation name (never client input).</param>
    internal static EngineCall Start(TimeProvider time, string operation)
    {
        var activity = Source.HasListeners() ? Source.StartActivity("berth.engine." + operation, ActivityKind.Client) : null;
        return new EngineCall(time, operation, CallDuration.Enabled ? time.GetTimestamp() : 0, activity);
    }

    /// <summary>One engine call in flight.</summary>
    internal readonly struct EngineCall(TimeProvider time, string operation, long started, Activity? activity) : IDisposable
    {
        public void Dispose()
        {
            if (started != 0)
            {
                CallDuration.Record(time.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>(OperationTag, operation));
            }

            activity?.Dispose();
        }
    }
}
