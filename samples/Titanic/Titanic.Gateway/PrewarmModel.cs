using Berth.Containers;
using Berth.Gateway;
using Berth.Hosting;

namespace Titanic.Gateway;

/// <summary>The seed's cron job: start the container (or keep it alive) so the next visitor gets a warm model.</summary>
public sealed partial class PrewarmModel(ContainerNamespace<FastApiContainer> containers, ILogger<PrewarmModel> logger) : IScheduledHandler
{
    public async Task HandleAsync(ScheduledEvent scheduledEvent, CancellationToken cancellationToken)
    {
        var container = containers.GetByName(FastApiContainer.Singleton);
        await container.Object.StartAndWaitForPortsAsync(cancellationToken: cancellationToken);
        var state = await container.Object.GetStateAsync(cancellationToken);
        LogPrewarmed(logger, scheduledEvent.Cron, scheduledEvent.ScheduledTime, state.State);
    }

    [LoggerMessage(1, LogLevel.Information, "Cron {Cron} at {Time:O}: pre-warmed the model container ({State})")]
    private static partial void LogPrewarmed(ILogger logger, string cron, DateTimeOffset time, ContainerObjectState state);
}
