namespace Berth.Hosting;

/// <summary>
/// Handles every cron of the config's <c>triggers.crons</c> (compare <see cref="ScheduledEvent.Cron"/> to tell them
/// apart). Register with <see cref="CronTriggerExtensions.AddScheduledHandler{THandler}"/>; resolved in a fresh scope per firing.
/// </summary>
public interface IScheduledHandler
{
    /// <summary>Runs the scheduled work. <paramref name="cancellationToken"/> fires when the host stops.</summary>
    Task HandleAsync(ScheduledEvent scheduledEvent, CancellationToken cancellationToken);
}
