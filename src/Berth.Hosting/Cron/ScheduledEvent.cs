namespace Berth.Hosting;

/// <summary>One firing of a cron trigger.</summary>
/// <param name="Cron">The expression that fired, as written.</param>
/// <param name="ScheduledTime">The occurrence being fired, in UTC; the handler may run slightly later.</param>
public sealed record ScheduledEvent(string Cron, DateTimeOffset ScheduledTime);
