using System.Threading.Channels;
using Berth.Hosting.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Hosting.Tests;

public sealed class CronTriggerServiceTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 6, 1, 10, 0, 30, TimeSpan.Zero);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly LogCapture _logs = new();
    private readonly Channel<ScheduledEvent> _fired = Channel.CreateUnbounded<ScheduledEvent>();
    private readonly ServiceCollection _services = new();
    private ServiceProvider? _provider;
    private IHostedService? _service;

    public CronTriggerServiceTests()
    {
        _services.AddLogging(logging => logging.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug));
        _services.AddSingleton<TimeProvider>(_time);
        _services.AddSingleton(_fired);
    }

    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.StopAsync(CancellationToken.None);
        }

        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("*/2 * * *")]
    [InlineData("0 */2 * * * *")]
    [InlineData("61 * * * *")]
    [InlineData("every minute")]
    public void AddCronTrigger_InvalidExpression_ThrowsNamingIt(string cron)
    {
        var ex = Assert.Throws<ArgumentException>(() => _services.AddCronTrigger(cron, (_, _, _) => Task.CompletedTask));

        Assert.StartsWith($"'{cron}' is not a valid cron expression: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("allowed: five fields 'minute hour day-of-month month day-of-week' in UTC", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Service_OccurrenceDue_RunsHandlerWithScheduledTime()
    {
        _services.AddCronTrigger("*/2 * * * *", (e, sp, ct) => sp.GetRequiredService<Channel<ScheduledEvent>>().Writer.WriteAsync(e, ct).AsTask());
        await StartAsync();

        _time.Advance(TimeSpan.FromSeconds(90));

        Assert.Equal(new ScheduledEvent("*/2 * * * *", At(10, 2)), await NextFiredAsync());
        await RunCompletedAsync(At(10, 2));
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(At(10, 4), (await NextFiredAsync()).ScheduledTime);
    }

    [Fact]
    public async Task Service_StartedAfterMissedOccurrences_DoesNotReplayThem()
    {
        // The host was down over 09:58 and 10:00: the first run is the first occurrence after start.
        _services.AddCronTrigger("*/2 * * * *", Record);
        await StartAsync();

        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(At(10, 2), (await NextFiredAsync()).ScheduledTime);
        Assert.False(_fired.Reader.TryRead(out _));
    }

    [Fact]
    public async Task Service_WokenLateAcrossSeveralOccurrences_FiresOnceNotInABurst()
    {
        _services.AddCronTrigger("*/2 * * * *", Record);
        await StartAsync();

        _time.Advance(TimeSpan.FromMinutes(10)); // 10:10:30: 10:02 ... 10:10 are all due.

        Assert.Equal(At(10, 10), (await NextFiredAsync()).ScheduledTime);
        await RunCompletedAsync(At(10, 10));
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(At(10, 12), (await NextFiredAsync()).ScheduledTime);
        await _logs.WaitForAsync(m => m.StartsWith("Warning: Cron '*/2 * * * *' woke late", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Service_PreviousRunStillGoing_SkipsOccurrence()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _services.AddCronTrigger("*/2 * * * *", async (e, _, ct) =>
        {
            await _fired.Writer.WriteAsync(e, ct);
            await release.Task.WaitAsync(ct);
        });
        await StartAsync();

        _time.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal(At(10, 2), (await NextFiredAsync()).ScheduledTime);
        _time.Advance(TimeSpan.FromMinutes(2));
        await _logs.WaitForAsync(m => m.Contains("skipped the occurrence at 2025-06-01 10:04:00Z: the previous run is still going", StringComparison.Ordinal));

        release.SetResult();
        await RunCompletedAsync(At(10, 2));
        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(At(10, 6), (await NextFiredAsync()).ScheduledTime);
    }

    [Fact]
    public async Task Service_HandlerThrows_LogsAndKeepsFiring()
    {
        var runs = 0;
        _services.AddCronTrigger("*/2 * * * *", async (e, _, ct) =>
        {
            await _fired.Writer.WriteAsync(e, ct);
            if (Interlocked.Increment(ref runs) == 1)
            {
                throw new InvalidOperationException("boom");
            }
        });
        await StartAsync();

        _time.Advance(TimeSpan.FromSeconds(90));
        await NextFiredAsync();
        await _logs.WaitForAsync(m => m == "Error: Cron '*/2 * * * *' run for 2025-06-01 10:02:00Z failed (boom)");
        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(At(10, 4), (await NextFiredAsync()).ScheduledTime);
    }

    [Fact]
    public async Task Service_ConfigCrons_DispatchedToEveryScheduledHandler()
    {
        _services.AddBerthConfig(BerthConfigFile.Parse("""{ "name": "app", "triggers": { "crons": ["*/5 * * * *", "0 11 * * *"] } }""", "/"));
        _services.AddScheduledHandler<RecordingHandler>();
        _services.AddScheduledHandler<FailingHandler>();
        await StartAsync();

        _time.Advance(TimeSpan.FromMinutes(60));

        var fired = new[] { await NextFiredAsync(), await NextFiredAsync() }.OrderBy(e => e.Cron, StringComparer.Ordinal).ToList();
        Assert.Equal([new ScheduledEvent("*/5 * * * *", At(11, 0)), new ScheduledEvent("0 11 * * *", At(11, 0))], fired);
        await _logs.WaitForAsync(m => m.StartsWith("Error: Scheduled handler FailingHandler failed for cron", StringComparison.Ordinal));
    }

    private static Task Record(ScheduledEvent e, IServiceProvider services, CancellationToken cancellationToken) =>
        services.GetRequiredService<Channel<ScheduledEvent>>().Writer.WriteAsync(e, cancellationToken).AsTask();

    private static DateTimeOffset At(int hour, int minute) => new(2025, 6, 1, hour, minute, 0, TimeSpan.Zero);

    private async Task StartAsync()
    {
        _provider = _services.BuildServiceProvider(validateScopes: true);
        _service = Assert.Single(_provider.GetServices<IHostedService>());
        await _service.StartAsync(CancellationToken.None);
    }

    /// <summary>Waits until the run has freed its trigger, so the next occurrence is not skipped as overlapping.</summary>
    private Task RunCompletedAsync(DateTimeOffset scheduledTime) =>
        _logs.WaitForAsync(m => m.StartsWith($"Debug: Cron '*/2 * * * *' run for {scheduledTime:u} completed", StringComparison.Ordinal));

    private async Task<ScheduledEvent> NextFiredAsync() => await _fired.Reader.ReadAsync().AsTask().WaitAsync(Wait);

    private sealed class RecordingHandler(Channel<ScheduledEvent> fired) : IScheduledHandler
    {
        public Task HandleAsync(ScheduledEvent scheduledEvent, CancellationToken cancellationToken) =>
            fired.Writer.WriteAsync(scheduledEvent, cancellationToken).AsTask();
    }

    private sealed class FailingHandler : IScheduledHandler
    {
        public Task HandleAsync(ScheduledEvent scheduledEvent, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("handler broke");
    }
}
