namespace Berth.Objects.Alarms;

/// <summary>Wakes an object whose alarm is due; the seam between the scheduler's timing logic and Orleans.</summary>
internal interface IAlarmDispatcher
{
    Task DeliverAsync(string grainId, CancellationToken cancellationToken);
}

internal sealed class GrainAlarmDispatcher(IGrainFactory grainFactory) : IAlarmDispatcher
{
    public Task DeliverAsync(string grainId, CancellationToken cancellationToken) =>
        grainFactory.GetGrain<IAlarmReceiver>(GrainId.Parse(grainId, System.Globalization.CultureInfo.InvariantCulture)).DeliverAlarmAsync(cancellationToken);
}
