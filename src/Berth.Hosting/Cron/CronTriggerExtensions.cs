using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Berth.Hosting;

/// <summary>Registers cron triggers and scheduled handlers.</summary>
public static class CronTriggerExtensions
{
    /// <summary>
    /// Runs <paramref name="handler"/> at each occurrence of <paramref name="cron"/> (five fields, UTC). The handler
    /// gets a scoped <see cref="IServiceProvider"/> and a token that fires when the host stops. A firing is skipped
    /// while the previous run of the same trigger is still going; fires missed while the host was down are not replayed.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="cron"/> is not a valid five-field expression; the message names it.</exception>
    public static IServiceCollection AddCronTrigger(
        this IServiceCollection services,
        string cron,
        Func<ScheduledEvent, IServiceProvider, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        services.AddSingleton(new CronTrigger(cron, CronSchedule.Parse(cron), handler));
        return services.AddCronTriggerService();
    }

    /// <summary>
    /// Registers <typeparamref name="THandler"/> (scoped) to receive every cron of the config's <c>triggers.crons</c>,
    /// which the app registers with <c>AddBerthConfig</c>.
    /// </summary>
    public static IServiceCollection AddScheduledHandler<THandler>(this IServiceCollection services)
        where THandler : class, IScheduledHandler
    {
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IScheduledHandler, THandler>());
        return services.AddCronTriggerService();
    }

    internal static IServiceCollection AddCronTriggerService(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CronTriggerService>());
        return services;
    }
}
