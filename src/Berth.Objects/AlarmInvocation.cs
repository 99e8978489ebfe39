namespace Berth.Objects;

/// <summary>Describes one delivery of an object's alarm to <c>AlarmAsync</c>.</summary>
/// <param name="ScheduledTime">The time the alarm was set for.</param>
/// <param name="RetryCount">How many earlier deliveries of this alarm failed; 0 on the first.</param>
public sealed record AlarmInvocation(DateTimeOffset ScheduledTime, int RetryCount)
{
    /// <summary>Gets whether an earlier delivery of this alarm failed.</summary>
    public bool IsRetry => RetryCount > 0;
}
