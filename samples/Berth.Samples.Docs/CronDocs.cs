using Berth.Hosting;

namespace Berth.Samples.Docs.Cron;

/// <summary>The service the cron docs pre-warm.</summary>
public sealed class ApiWarmer
{
    public Task PrewarmAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

// snippet: handler
sealed partial class Prewarm(ILogger<Prewarm> logger) : IScheduledHandler
{
    public Task HandleAsync(ScheduledEvent e, CancellationToken cancellationToken)
    {
        LogFired(logger, e.Cron, e.ScheduledTime);
        return Task.CompletedTask;
    }

    [LoggerMessage(LogLevel.Information, "{Cron} fired for {Time}")]
    private static partial void LogFired(ILogger logger, string cron, DateTimeOffset time);
}
// end snippet: handler

/// <summary>docs/cron.md.</summary>
internal static class CronDocs
{
    public static void Trigger(WebApplicationBuilder builder)
    {
        // snippet: trigger
        builder.Services.AddCronTrigger("*/2 * * * *", async (ScheduledEvent e, IServiceProvider services, CancellationToken ct) =>
        {
            var api = services.GetRequiredService<ApiWarmer>();
            await api.PrewarmAsync(ct);
        });
        // end snippet: trigger
    }

    public static void Handler(WebApplicationBuilder builder)
    {
        // snippet: register-handler
        builder.AddBerthConfig();
        builder.Services.AddScheduledHandler<Prewarm>();
        // end snippet: register-handler
    }
}
