namespace Berth.Storage;

/// <summary>The alarm persisted in an object's database.</summary>
/// <param name="Time">When the alarm is due next (a retry moves it later).</param>
/// <param name="ScheduledTime">The time the alarm was set for.</param>
/// <param name="RetryCount">How many failed deliveries preceded the next one.</param>
public readonly record struct StoredAlarm(DateTimeOffset Time, DateTimeOffset ScheduledTime, int RetryCount);
