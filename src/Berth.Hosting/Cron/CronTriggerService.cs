using Berth.Cluster.Cron;
using Cronos;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

/// <summary>A cron expression and what runs when it fires.</summary>
internal sealed record CronTrigger(string Cron, CronExpression Expression, Func<ScheduledEvent, IServiceProvider, CancellationToken, Task> Handler)
{
    /// <summary>
    /// Gets the trigger's name in a cluster's cron claims: where it was registered, its position there and its expression
    /// (<c>code/0/*/5 * * * *</c>, <c>config/1/0 9 * * *</c>), the same on every node that runs the same app.
    /// </summary>
    public string Key { get; init; } = Cron;
}

/// <summary>
/// Fires the triggers registered with <see cref="CronTriggerExtensions.AddCronTrigger"/> and, for each cron of the
/// config's <c>triggers.crons</c>, every <see cref="IScheduledHandler"/>. Each trigger runs its own loop: it sleeps
/// on the injected <see cref="TimeProvider"/> until the next occurrence (UTC), starts the handler without waiting
/// for it, and skips an occurrence while the previous run is still going. In a cluster (an <see cref="ICronOccurrenceClaims"/>
/// is registered) each node claims an occurrence before firing it and fires only when it wins: once per occurrence for the
/// cluster, at most once (a claim that cannot be made skips the occurrence).
/// </summary>
internal sealed partial class CronTriggerService(
    IEnumerable<CronTrigger> triggers,
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger<CronTriggerService> logger,
    BerthAppConfig? config = null,
    IHostApplicationLifetime? lifetime = null,
    ICronOccurrenceClaims? claims = null) : BackgroundService
{
    // Timers cannot wait longer than about 49 days; rare crons (29 February) sleep in steps.
    private static readonly TimeSpan MaxDelay = TimeSpan.FromDays(1);

    private DateTimeOffset _startedAt;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Occurrences count from start-up, not from whenever the background loop first runs, and never
        // from before it: what was missed while the host was down is not replayed.
        _startedAt = time.GetUtcNow();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Handlers reach objects and containers: wait until the whole host, the Orleans silo included, has started.
        if (lifetime is not null && !lifetime.ApplicationStarted.IsCancellationRequested)
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
            await started.Task.WaitAsync(stoppingToken);
        }

        var all = triggers
            .Select((trigger, i) => trigger with { Key = $"code/{i}/{trigger.Cron}" })
            .Concat((config?.Crons ?? []).Select((cron, i) => new CronTrigger(cron, CronSchedule.Parse(cron), DispatchToHandlersAsync) { Key = $"config/{i}/{cron}" }))
            .ToList();
        foreach (var trigger in all)
        {
            Log.Scheduled(logger, trigger.Cron, trigger.Expression.GetNextOccurrence(_startedAt, TimeZoneInfo.Utc));
        }

        await Task.WhenAll(all.Select(trigger => RunTriggerAsync(trigger, stoppingToken)));
    }

    private async Task RunTriggerAsync(CronTrigger trigger, CancellationToken stoppingToken)
    {
        var run = new RunState();
        var next = trigger.Expression.GetNextOccurrence(_startedAt, TimeZoneInfo.Utc);
        try
        {
            while (next is { } due)
            {
                await DelayUntilAsync(due, stoppingToken);

                // Woken late (suspended host, clock jump, busy machine): fire only the latest occurrence that is due.
                var now = time.GetUtcNow();
                var occurrence = due;
                while (trigger.Expression.GetNextOccurrence(occurrence, TimeZoneInfo.Utc) is { } later && later <= now)
                {
                    occurrence = later;
                }

                if (occurrence != due)
                {
                    Log.Missed(logger, trigger.Cron, due, occurrence);
                }

                if (!run.InProgress)
                {
                    run.InProgress = true;
                    run.Task = RunOnceAsync(trigger, new ScheduledEvent(trigger.Cron, occurrence), run, stoppingToken);
                }
                else
                {
                    Log.Overlapping(logger, trigger.Cron, occurrence);
                }

                next = trigger.Expression.GetNextOccurrence(occurrence, TimeZoneInfo.Utc);
            }

            Log.NoMoreOccurrences(logger, trigger.Cron);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping: let the run in progress see the token and finish.
        }

        await run.Task;
    }

    private async Task DelayUntilAsync(DateTimeOffset due, CancellationToken cancellationToken)
    {
        for (var remaining = due - time.GetUtcNow(); remaining > TimeSpan.Zero; remaining = due - time.GetUtcNow())
        {
            await Task.Delay(remaining < MaxDelay ? remaining : MaxDelay, time, cancellationToken);
        }
    }

    /// <summary>Runs one firing; never throws, so a failing handler cannot stop its trigger or the service.</summary>
    private async Task RunOnceAsync(CronTrigger trigger, ScheduledEvent scheduledEvent, RunState run, CancellationToken stoppingToken)
    {
        // Return to the scheduling loop at once, even if the handler does synchronous work first.
        await Task.Yield();
        if (claims is not null && !await TryClaimAsync(trigger, scheduledEvent.ScheduledTime, stoppingToken))
        {
            run.InProgress = false;
            return;
        }

        var started = time.GetTimestamp();
        Log.Firing(logger, trigger.Cron, scheduledEvent.ScheduledTime);
        Exception? failure = null;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await trigger.Handler(scheduledEvent, scope.ServiceProvider, stoppingToken);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        // Free the trigger before saying so: whoever reads "completed" may rely on the next occurrence running.
        run.InProgress = false;
        switch (failure)
        {
            case null:
                Log.Completed(logger, trigger.Cron, scheduledEvent.ScheduledTime, time.GetElapsedTime(started).TotalMilliseconds);
                break;
            case OperationCanceledException when stoppingToken.IsCancellationRequested:
                Log.Cancelled(logger, trigger.Cron, scheduledEvent.ScheduledTime);
                break;
            default:
                Log.Failed(logger, failure, trigger.Cron, scheduledEvent.ScheduledTime);
                break;
        }
    }

    /// <summary>Whether this node fires the occurrence; never throws: a claim that fails is a lost occurrence, never a duplicate.</summary>
    private async Task<bool> TryClaimAsync(CronTrigger trigger, DateTimeOffset occurrence, CancellationToken stoppingToken)
    {
        try
        {
            if (await claims!.TryClaimAsync(trigger.Key, occurrence, stoppingToken))
            {
                return true;
            }

            Log.ClaimedElsewhere(logger, trigger.Cron, occurrence);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }
        catch (Exception ex)
        {
            Log.ClaimFailed(logger, ex, trigger.Cron, occurrence);
        }

        return false;
    }

    private async Task DispatchToHandlersAsync(ScheduledEvent scheduledEvent, IServiceProvider services, CancellationToken cancellationToken)
    {
        var handlers = services.GetServices<IScheduledHandler>().ToList();
        if (handlers.Count == 0)
        {
            Log.NoHandler(logger, scheduledEvent.Cron);
        }

        // One failing handler does not keep the others from running.
        foreach (var handler in handlers)
        {
            try
            {
                await handler.HandleAsync(scheduledEvent, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Log.HandlerFailed(logger, ex, handler.GetType().Name, scheduledEvent.Cron, scheduledEvent.ScheduledTime);
            }
        }
    }

    /// <summary>One trigger's run in progress, if any; read by the scheduling loop, cleared by the run.</summary>
    private sealed class RunState
    {
        public volatile bool InProgress;

        public Task Task = Task.CompletedTask;
    }
}
