using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Berth.Containers;
using Berth.Hosting.Tests.Support;
using Berth.Objects;
using Berth.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Hosting.Tests;

/// <summary>Metering with a fake clock and a fake CPU reader: intervals, hours, CPU, egress, durability, pricing, the report.</summary>
public sealed class MeteringTests : IDisposable
{
    private const string App = "demo";
    private const string ObjectA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string ObjectB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeResourceReader _reader = new();

    public void Dispose() => _dir.Dispose();

    private string StorePath => Path.Combine(_dir.Path, "data", SqliteUsageStore.FileName);

    private UsageRecorder NewRecorder(MeteringOptions? options = null) =>
        new(new SqliteUsageStore(StorePath), _reader, Options.Create(options ?? new MeteringOptions()), _time);

    private static int _containers;

    private static ContainerStateChange Change(
        string objectId, string containerId, ContainerObjectState previous, ContainerObjectState state, DateTimeOffset at, long egress = 0,
        InstanceType? type = null, string className = "Api", string? name = null) =>
        new(App, "node-1", className, objectId, name, containerId, previous, state, null, type ?? InstanceType.Basic, 1, at, null, egress);

    /// <summary>Runs one container of <paramref name="objectId"/> from now for <paramref name="duration"/>: Running, Healthy, Stopping, Stopped.</summary>
    private string Run(UsageRecorder recorder, string objectId, TimeSpan duration, InstanceType? type = null, string className = "Api")
    {
        var id = $"{Interlocked.Increment(ref _containers):x64}";
        recorder.OnStateChanged(Change(objectId, id, ContainerObjectState.Stopped, ContainerObjectState.Running, _time.GetUtcNow(), type: type, className: className));
        _time.Advance(TimeSpan.FromMilliseconds(3));
        recorder.OnStateChanged(Change(objectId, id, ContainerObjectState.Running, ContainerObjectState.Healthy, _time.GetUtcNow(), type: type, className: className));
        _time.Advance(duration - TimeSpan.FromMilliseconds(4));
        recorder.OnStateChanged(Change(objectId, id, ContainerObjectState.Healthy, ContainerObjectState.Stopping, _time.GetUtcNow(), type: type, className: className));
        // The stop's grace: still running until it exits.
        _time.Advance(TimeSpan.FromMilliseconds(1));
        recorder.OnStateChanged(Change(objectId, id, ContainerObjectState.Stopping, ContainerObjectState.Stopped, _time.GetUtcNow(), type: type, className: className));
        _time.Advance(TimeSpan.FromMilliseconds(250));
        return id;
    }

    private async Task<IReadOnlyList<UsageRow>> StoredAsync()
    {
        await using var store = new SqliteUsageStore(StorePath);
        return await store.QueryAsync(App, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue.AddYears(-1));
    }

    /// <summary>The row has <paramref name="ms"/> of running time and a basic instance's memory and disk over it (1 GiB, 4 GB).</summary>
    private static void AssertBasicRunning(long ms, UsageRow row)
    {
        Assert.Equal(ms, row.Amounts.RunningMs);
        Assert.Equal(ms / 1000.0, row.Amounts.MemoryGibSeconds, 9);
        Assert.Equal(ms / 1000.0 * 4, row.Amounts.DiskGbSeconds, 9);
    }

    [Fact]
    public async Task Recorder_IntervalNotAMultipleOf10Ms_RoundedUpToTheNext10Ms()
    {
        await using var owner = new Disposer(NewRecorder());
        var recorder = owner.Recorder;

        Run(recorder, ObjectA, TimeSpan.FromMilliseconds(1234.5));
        await recorder.FlushAsync();

        var row = Assert.Single(await StoredAsync());
        AssertBasicRunning(1240, row);
        Assert.Equal(1, row.Amounts.Starts);
    }

    [Fact]
    public async Task Recorder_ExactMultipleOf10Ms_NotRoundedFurther()
    {
        await using var owner = new Disposer(NewRecorder());
        var recorder = owner.Recorder;

        Run(recorder, ObjectA, TimeSpan.FromMilliseconds(2000));
        await recorder.FlushAsync();

        Assert.Equal(2000, Assert.Single(await StoredAsync()).Amounts.RunningMs);
    }

    [Fact]
    public async Task Recorder_IntervalAcrossAnHour_SplitAcrossBothHours()
    {
        await using var owner = new Disposer(NewRecorder());
        var recorder = owner.Recorder;
        _time.SetUtcNow(new DateTimeOffset(2026, 11, 30, 12, 59, 59, 0, TimeSpan.Zero));

        Run(recorder, ObjectA, TimeSpan.FromMilliseconds(2005));
        await recorder.FlushAsync();

        var rows = await StoredAsync();
        Assert.Equal(2, rows.Count);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero), rows[0].Hour);
        Assert.Equal(1000, rows[0].Amounts.RunningMs);
        Assert.Equal(1, rows[0].Amounts.Starts);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 13, 0, 0, TimeSpan.Zero), rows[1].Hour);
        Assert.Equal(1010, rows[1].Amounts.RunningMs);
        Assert.Equal(0, rows[1].Amounts.Starts);
        Assert.Equal(2.01, rows.Sum(r => r.Amounts.MemoryGibSeconds), 9);
    }

    [Fact]
    public async Task Recorder_LongRunWithFlushesAcrossHours_EachHourGetsItsTimeAndTotalIsRounded()
    {
        await using var owner = new Disposer(NewRecorder());
        var recorder = owner.Recorder;
        _time.SetUtcNow(new DateTimeOffset(2026, 11, 30, 12, 30, 0, 0, TimeSpan.Zero));
        var start = _time.GetUtcNow();
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Stopped, ContainerObjectState.Running, start));
        for (var i = 0; i < 15; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromTicks(3));
            await recorder.FlushAsync();
        }

        _time.Advance(TimeSpan.FromMilliseconds(1.5));
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Running, ContainerObjectState.StoppedWithCode, _time.GetUtcNow()));
        await recorder.FlushAsync();

        var rows = await StoredAsync();
        // 12:30–13:00, 13:00–14:00, 14:00–15:00, and the last 1.5 ms rounded up to 10 in the 15:00 hour.
        Assert.Equal([1_800_000L, 3_600_000L, 3_600_000L, 10L], rows.Select(r => r.Amounts.RunningMs));
        Assert.Equal((long)Math.Ceiling((_time.GetUtcNow() - start).TotalMilliseconds / 10) * 10, rows.Sum(r => r.Amounts.RunningMs));
    }

    [Fact]
    public async Task Recorder_ManyStartsAndStops_SumWithin10MsPerInterval()
    {
        await using var owner = new Disposer(NewRecorder());
        var recorder = owner.Recorder;
        var random = new Random(15);
        var exact = TimeSpan.Zero;
        const int Runs = 200;
        for (var i = 0; i < Runs; i++)
        {
            var duration = TimeSpan.FromTicks(random.NextInt64(TimeSpan.TicksPerMillisecond * 5, TimeSpan.TicksPerSecond * 30));
            exact += duration;
            Run(recorder, i % 2 == 0 ? ObjectA : ObjectB, duration);
            _time.Advance(TimeSpan.FromSeconds(random.Next(1, 600)));
            if (i % 17 == 0)
            {
                await recorder.FlushAsync();
            }
        }

        await recorder.FlushAsync();

        var rows = await StoredAsync();
        var total = rows.Sum(r => r.Amounts.RunningMs);
        Assert.InRange(total, (long)Math.Ceiling(exact.TotalMilliseconds), (long)exact.TotalMilliseconds + 10 * Runs);
        Assert.Equal(Runs, rows.Sum(r => r.Amounts.Starts));
        Assert.All(rows, r => Assert.Equal(r.Amounts.RunningMs / 1000.0, r.Amounts.MemoryGibSeconds, 6));
    }

    [Fact]
    public async Task Recorder_CpuCounterSampledWhileRunningAndAtStop_CountsTheCounterOnce()
    {
        await using var owner = new Disposer(NewRecorder());
        var recorder = owner.Recorder;
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Stopped, ContainerObjectState.Running, _time.GetUtcNow()));
        _reader.Set("c1", 400_000_000);
        _time.Advance(TimeSpan.FromSeconds(10));
        await recorder.FlushAsync();
        Assert.Equal(400_000_000, Assert.Single(await StoredAsync()).Amounts.CpuNanoseconds);

        _reader.Set("c1", 1_300_000_000);
        _time.Advance(TimeSpan.FromSeconds(1));
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Healthy, ContainerObjectState.Stopping, _time.GetUtcNow()));
        // The hosted service applies the stop while the container is still there (a flush applies it here, at once).
        await recorder.FlushAsync();
        // Gone after the stop: the stop's own sample counted, nothing more.
        _reader.Remove("c1");
        _reader.Set("c2", 999_000_000_000);
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Stopping, ContainerObjectState.Stopped, _time.GetUtcNow()));
        await recorder.FlushAsync();

        var row = Assert.Single(await StoredAsync());
        Assert.Equal(1_300_000_000, row.Amounts.CpuNanoseconds);
        Assert.Equal(1.3, row.Amounts.CpuVcpuSeconds, 9);
    }

    [Fact]
    public async Task Recorder_EgressCountsGrow_DeltasSummedAndResetForANewContainer()
    {
        await using var owner = new Disposer(NewRecorder());
        var recorder = owner.Recorder;
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Stopped, ContainerObjectState.Running, _time.GetUtcNow(), egress: 0));
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Running, ContainerObjectState.Healthy, _time.GetUtcNow(), egress: 100));
        _time.Advance(TimeSpan.FromSeconds(1));
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Healthy, ContainerObjectState.Stopping, _time.GetUtcNow(), egress: 1_000));
        recorder.OnStateChanged(Change(ObjectA, "c2", ContainerObjectState.Stopped, ContainerObjectState.Running, _time.GetUtcNow(), egress: 0));
        recorder.OnStateChanged(Change(ObjectA, "c2", ContainerObjectState.Running, ContainerObjectState.Stopping, _time.GetUtcNow(), egress: 50));
        await recorder.FlushAsync();

        Assert.Equal(1_050, Assert.Single(await StoredAsync()).Amounts.EgressBytes);
    }

    [Fact]
    public async Task Recorder_FlushedThenReopened_RowsKeptAndAddedTo()
    {
        await using (var first = new Disposer(NewRecorder()))
        {
            Run(first.Recorder, ObjectA, TimeSpan.FromSeconds(3));
            await first.Recorder.FlushAsync();
        }

        await using (var second = new Disposer(NewRecorder()))
        {
            Run(second.Recorder, ObjectA, TimeSpan.FromSeconds(2));
            await second.Recorder.FlushAsync();
        }

        var row = Assert.Single(await StoredAsync());
        Assert.Equal(5000, row.Amounts.RunningMs);
        Assert.Equal(2, row.Amounts.Starts);
    }

    [Fact]
    public async Task Recorder_RunningAsHostedService_FlushesEveryFlushIntervalAndAtStop()
    {
        await using var owner = new Disposer(NewRecorder(new MeteringOptions { FlushInterval = TimeSpan.FromSeconds(10) }));
        var recorder = owner.Recorder;
        await recorder.StartAsync(CancellationToken.None);
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Stopped, ContainerObjectState.Running, _time.GetUtcNow()));

        Assert.Empty(await StoredAsync());

        // The hosted loop runs on the thread pool (.NET 10's BackgroundService): let it reach its first fake-clock delay
        // before the clock moves, or its timer starts after the advance and is due an interval later (CI saw it).
        await Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System);
        _time.Advance(TimeSpan.FromSeconds(10));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await StoredAsync()).Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Yield();
            Thread.Sleep(20);
        }

        // Running for one interval: written without a stop, so a crash now loses at most the next interval.
        Assert.Equal(10_000, Assert.Single(await StoredAsync()).Amounts.RunningMs);

        _time.Advance(TimeSpan.FromSeconds(4));
        await recorder.StopAsync(CancellationToken.None);
        Assert.Equal(14_000, Assert.Single(await StoredAsync()).Amounts.RunningMs);
    }

    [Fact]
    public async Task Recorder_LiveUsage_IncludesRunningInstancesUpToNow()
    {
        await using var owner = new Disposer(NewRecorder());
        var recorder = owner.Recorder;
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Stopped, ContainerObjectState.Running, _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromSeconds(5));

        var live = Assert.Single(await recorder.GetLiveAsync(App));
        Assert.Equal(5000, live.Amounts.RunningMs);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(7000, Assert.Single(await recorder.GetLiveAsync(App)).Amounts.RunningMs);
        Assert.Empty(await StoredAsync());
        Assert.Equal(_time.GetUtcNow().AddSeconds(-7), recorder.GetStartedAt("c1"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Recorder_FlushedAfterTheExitBeforeTheStopIsRecorded_BilledToTheExitOnly(bool stopRequested)
    {
        await using var owner = new Disposer(NewRecorder());
        var recorder = owner.Recorder;
        var start = _time.GetUtcNow();
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Stopped, ContainerObjectState.Running, start));
        _time.Advance(TimeSpan.FromMilliseconds(1000));
        if (stopRequested)
        {
            recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Running, ContainerObjectState.Stopping, _time.GetUtcNow()));
        }

        // The engine's exit at 1045 ms; the object records it only after the container's removal, 320 ms later, at the exit's time.
        var exited = start.AddMilliseconds(1045);
        _time.SetUtcNow(exited.AddMilliseconds(320));
        await recorder.FlushAsync();
        recorder.OnStateChanged(Change(ObjectA, "c1", stopRequested ? ContainerObjectState.Stopping : ContainerObjectState.Running, ContainerObjectState.Stopped, exited));
        await recorder.FlushAsync();

        // 1045 ms rounded up to 1050, not the 1365 ms up to the flush.
        AssertBasicRunning(1050, Assert.Single(await StoredAsync()));
    }

    [Fact]
    public async Task Recorder_FlushedAfterAnExitAcrossAnHour_TakenBackFromTheHourItWasPutIn()
    {
        await using var owner = new Disposer(NewRecorder());
        var recorder = owner.Recorder;
        var start = new DateTimeOffset(2026, 11, 30, 12, 59, 59, 0, TimeSpan.Zero);
        _time.SetUtcNow(start);
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Stopped, ContainerObjectState.Running, start));
        _time.Advance(TimeSpan.FromMilliseconds(700));
        await recorder.FlushAsync();
        // Exit at 13:00:00.500; a flush at 13:00:01 (1000 ms in 12:00 and 1000 in 13:00 accrued) before the stop is recorded.
        _time.Advance(TimeSpan.FromMilliseconds(1300));
        await recorder.FlushAsync();
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Running, ContainerObjectState.Stopped, start.AddMilliseconds(1500)));
        _time.Advance(TimeSpan.FromSeconds(10));
        await recorder.FlushAsync();

        var rows = await StoredAsync();
        Assert.Equal([1000L, 500L], rows.Select(r => r.Amounts.RunningMs));
        Assert.Equal([new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 30, 13, 0, 0, TimeSpan.Zero)], rows.Select(r => r.Hour));
        Assert.Equal(0.5, rows[1].Amounts.MemoryGibSeconds, 9);
    }

    [Fact]
    public async Task Recorder_StopSampleCannotBeRead_StopStillRecorded()
    {
        await using var owner = new Disposer(NewRecorder());
        var recorder = owner.Recorder;
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Stopped, ContainerObjectState.Running, _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromMilliseconds(1000));
        // The engine's stats API failed once, for the stop's sample.
        _reader.BeforeRead = _ =>
        {
            _reader.BeforeRead = null;
            throw new HttpRequestException("engine stats: connection reset");
        };
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Running, ContainerObjectState.Stopped, _time.GetUtcNow()));

        await FlushIgnoringFailureAsync(recorder);
        _time.Advance(TimeSpan.FromSeconds(10));
        await recorder.FlushAsync();

        Assert.Equal(1000, Assert.Single(await StoredAsync()).Amounts.RunningMs);
    }

    [Fact]
    public async Task Recorder_ReportCancelledWhileAStopIsApplied_StopStillRecorded()
    {
        await using var owner = new Disposer(NewRecorder());
        var recorder = owner.Recorder;
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Stopped, ContainerObjectState.Running, _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromMilliseconds(1000));
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Running, ContainerObjectState.Stopped, _time.GetUtcNow()));
        // The report's caller goes away while the stop's sample is read.
        using var aborted = new CancellationTokenSource();
        _reader.BeforeRead = token =>
        {
            _reader.BeforeRead = null;
            aborted.Cancel();
            token.ThrowIfCancellationRequested();
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => recorder.GetLiveAsync(App, aborted.Token));
        _time.Advance(TimeSpan.FromSeconds(10));
        await recorder.FlushAsync();

        Assert.Equal(1000, Assert.Single(await StoredAsync()).Amounts.RunningMs);
    }

    [Fact]
    public async Task AdminUsage_FlushWhileTheReportIsRead_EveryMomentCountedOnce()
    {
        await using var host = await StartHostAsync();
        var recorder = host.Services.GetRequiredService<UsageRecorder>();
        recorder.OnStateChanged(Change(ObjectA, "c1", ContainerObjectState.Stopped, ContainerObjectState.Running, _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromSeconds(5));
        await recorder.FlushAsync();
        _time.Advance(TimeSpan.FromSeconds(2));

        // A flush holds at its CPU sample while the report is asked for; the clock stands still, so the answer is 7 s whenever it reads.
        var sampling = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _reader.BeforeReadAsync = async _ =>
        {
            _reader.BeforeReadAsync = null;
            sampling.TrySetResult();
            await release.Task;
        };
        var flush = recorder.FlushAsync();
        await sampling.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var report = host.Client.GetAsync("/_berth/admin/usage");
        // Time for the request to reach the recorder (a bounded wait for ordering, not an assertion on it).
        await Task.WhenAny(report, Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System));
        release.SetResult();
        await flush;

        using var response = await report.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(7000, json.RootElement.GetProperty("totals").GetProperty("running_ms").GetInt64());
    }

    private static async Task FlushIgnoringFailureAsync(UsageRecorder recorder)
    {
        try
        {
            await recorder.FlushAsync();
        }
        catch (HttpRequestException)
        {
            // Before the fix the failed read failed the flush (and lost the stop); either way the next flush is what counts.
        }
    }

    [Fact]
    public void Report_PricedWithRatesAndAllowances_TotalsAreTheSumOfRowsAndBillableIsBeyondTheAllowance()
    {
        var options = new MeteringOptions { IncludedMemoryGibSeconds = 100, IncludedCpuVcpuSeconds = 1, IncludedDiskGbSeconds = 0, IncludedEgressBytes = 1_000_000_000 };
        var hour = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        UsageRow[] records =
        [
            new("Api", ObjectA, "a", hour, new UsageAmounts(100_000, 1, 100, 400, 2_000_000_000, 500_000_000)),
            new("Api", ObjectB, null, hour, new UsageAmounts(50_000, 2, 50, 200, 1_000_000_000, 1_500_000_000)),
            new("Api", ObjectA, null, hour.AddHours(1), new UsageAmounts(1_000, 1, 1, 4, 0, 0)),
            new("Worker", ObjectA, null, hour, new UsageAmounts(10, 1, 0.01, 0.04, 0, 0)),
        ];

        foreach (var by in new[] { UsageGrouping.Class, UsageGrouping.Object, UsageGrouping.Hour })
        {
            var report = UsageReport.Create(App, hour, hour.AddHours(2), by, records, options);
            Assert.Equal(report.Rows.Sum(r => r.RunningMs), report.Totals.RunningMs);
            Assert.Equal(report.Rows.Sum(r => r.CostUsd), report.Totals.CostUsd, 12);
            Assert.Equal(151_010, report.Totals.RunningMs);
            Assert.Equal(5, report.Totals.Starts);
            Assert.Equal(151.01, report.Totals.MemoryGibS, 9);
            Assert.Equal(3.0, report.Totals.CpuVcpuS, 9);
            Assert.Equal(2_000_000_000, report.Totals.EgressBytes);
            // Memory 151.01 × 0.0000025 + CPU 3 × 0.00002 + disk 604.04 × 0.00000007 + egress 2 GB × 0.025.
            Assert.Equal(151.01 * 0.0000025 + 3 * 0.00002 + 604.04 * 0.00000007 + 2 * 0.025, report.Totals.CostUsd, 12);
            // Beyond the allowances: memory 51.01, CPU 2, disk 604.04 (none included), egress 1 GB.
            Assert.Equal(51.01 * 0.0000025 + 2 * 0.00002 + 604.04 * 0.00000007 + 1 * 0.025, report.BillableUsd, 12);
        }

        var byObject = UsageReport.Create(App, hour, hour.AddHours(2), UsageGrouping.Object, records, options);
        Assert.Equal(["Api", "Api", "Worker"], byObject.Rows.Select(r => r.Class));
        Assert.Equal("a", byObject.Rows[0].ObjectName);
        Assert.Equal(101_000, byObject.Rows[0].RunningMs);
        var byHour = UsageReport.Create(App, hour, hour.AddHours(2), UsageGrouping.Hour, records, options);
        Assert.Equal([hour, hour.AddHours(1), hour], byHour.Rows.Select(r => r.Hour!.Value));
    }

    [Fact]
    public void Report_UsageWithinTheAllowances_NothingBillable()
    {
        var hour = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        var report = UsageReport.Create(App, hour, hour.AddHours(1), UsageGrouping.Class,
            [new UsageRow("Api", ObjectA, null, hour, new UsageAmounts(3_600_000, 1, 3600, 14_400, 60_000_000_000, 1_000))], new MeteringOptions());

        Assert.True(report.Totals.CostUsd > 0);
        Assert.Equal(0, report.BillableUsd);
        Assert.Equal(90_000, report.Included.MemoryGibS);
        Assert.Equal(22_500, report.Included.CpuVcpuS);
        Assert.Equal(720_000, report.Included.DiskGbS);
        Assert.Equal(1_000_000_000_000, report.Included.EgressBytes);
    }

    [Fact]
    public void Options_Defaults_AreTheSeedsPricesAndValid()
    {
        var options = new MeteringOptions();

        Assert.Equal(0.0000025, options.MemoryRatePerGibSecond);
        Assert.Equal(0.000020, options.CpuRatePerVcpuSecond);
        Assert.Equal(0.00000007, options.DiskRatePerGbSecond);
        Assert.Equal(0.025, options.EgressRatePerGb);
        Assert.Equal(TimeSpan.FromSeconds(10), options.FlushInterval);
        Assert.True(new MeteringOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Options_NegativeRateOrTinyFlushInterval_FailNamingTheKey()
    {
        var result = new MeteringOptionsValidator().Validate(null, new MeteringOptions { CpuRatePerVcpuSecond = -1, FlushInterval = TimeSpan.FromMilliseconds(1) });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("Berth:Metering:CpuRatePerVcpuSecond", StringComparison.Ordinal) && f.Contains("allowed", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Berth:Metering:FlushInterval", StringComparison.Ordinal));
    }

    [Fact]
    public void ConfigFile_MeteringSection_FeedsTheOptionsKeys()
    {
        var config = BerthConfigFile.Parse(
            """{ "name": "demo", "metering": { "rates": { "cpu_vcpu_s": 0.5 }, "included": { "egress_gb": 2, "memory_gib_s": 10 } } }""", _dir.Path);

        var keys = config.Metering!.ConfigurationKeys().ToDictionary(k => k.Key, k => k.Value);
        Assert.Equal("0.5", keys["Berth:Metering:CpuRatePerVcpuSecond"]);
        Assert.Equal("2000000000", keys["Berth:Metering:IncludedEgressBytes"]);
        Assert.Equal("10", keys["Berth:Metering:IncludedMemoryGibSeconds"]);
        Assert.Equal(3, keys.Count);
    }

    [Fact]
    public void ConfigFile_BadMeteringValues_RefusedNamingFieldAndAllowed()
    {
        var error = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse(
            """{ "name": "demo", "metering": { "rates": { "cpu_vcpu_s": -1, "gpu": 1 }, "included": { "disk_gb_s": "lots" } } }""", _dir.Path));

        Assert.Contains("metering.rates.cpu_vcpu_s", error.Message, StringComparison.Ordinal);
        Assert.Contains("metering.rates.gpu", error.Message, StringComparison.Ordinal);
        Assert.Contains("metering.included.disk_gb_s", error.Message, StringComparison.Ordinal);
        Assert.Contains("allowed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminUsage_RecordedUsage_AnsweredInSnakeCaseWithTotalsEqualToTheSumOfRows()
    {
        await using var host = await StartHostAsync();
        var recorder = host.Services.GetRequiredService<UsageRecorder>();
        Run(recorder, ObjectA, TimeSpan.FromSeconds(3));
        await recorder.FlushAsync();
        Run(recorder, ObjectB, TimeSpan.FromSeconds(1), className: "Sandbox");
        recorder.OnStateChanged(Change(ObjectA, "live", ContainerObjectState.Stopped, ContainerObjectState.Running, _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromSeconds(2));

        using var response = await host.Client.GetAsync("/_berth/admin/usage?by=object");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Equal("demo", root.GetProperty("app").GetString());
        Assert.Equal("object", root.GetProperty("by").GetString());
        var rows = root.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal("Api", rows[0].GetProperty("class").GetString());
        Assert.Equal(ObjectA, rows[0].GetProperty("object").GetString());
        // Stored 3 s plus the live 2 s.
        Assert.Equal(5000, rows[0].GetProperty("running_ms").GetInt64());
        Assert.Equal(JsonValueKind.Null, rows[0].GetProperty("hour").ValueKind);
        foreach (var field in new[] { "running_ms", "starts", "memory_gib_s", "disk_gb_s", "cpu_vcpu_s", "egress_bytes", "cost_usd" })
        {
            Assert.Equal(rows.Sum(r => r.GetProperty(field).GetDouble()), root.GetProperty("totals").GetProperty(field).GetDouble(), 9);
        }

        Assert.Equal(90000, root.GetProperty("included").GetProperty("memory_gib_s").GetDouble());
        Assert.Equal(0, root.GetProperty("billable_usd").GetDouble());
    }

    [Theory]
    [InlineData("by=week", "by")]
    [InlineData("since=yesterday", "since")]
    [InlineData("until=2026-13-45", "until")]
    [InlineData("since=2026-11-30T12:00:00Z&until=2026-11-30T11:00:00Z", "until")]
    public async Task AdminUsage_BadQuery_400NamingTheParameterAndAllowedValues(string query, string parameter)
    {
        await using var host = await StartHostAsync();

        using var response = await host.Client.GetAsync($"/_berth/admin/usage?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString()!;
        Assert.StartsWith($"{parameter}:", detail, StringComparison.Ordinal);
        Assert.Contains("allowed", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminUsage_UnknownClass_404NamingTheClasses()
    {
        await using var host = await StartHostAsync();

        using var response = await host.Client.GetAsync("/_berth/admin/usage?class=Nope");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Sandbox", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<MeteredHost> StartHostAsync()
    {
        var host = await AdminTestHost.StartAsync(services: services =>
        {
            services.AddSingleton<TimeProvider>(_time);
            services.Configure<DurableObjectOptions>(o => o.DataDirectory = Path.Combine(_dir.Path, "data"));
            services.AddSingleton<IContainerResourceReader>(_reader);
            services.AddBerthMetering();
        });
        return new MeteredHost(host);
    }

    private sealed class MeteredHost : IAsyncDisposable
    {
        private readonly AdminTestHost _host;

        public MeteredHost(AdminTestHost host)
        {
            _host = host;
            Client = new HttpClient { BaseAddress = host.Address };
            Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(host.TokenFile).Trim());
        }

        public HttpClient Client { get; }

        public IServiceProvider Services => _host.Services;

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await _host.DisposeAsync();
        }
    }

    private sealed class Disposer(UsageRecorder recorder) : IAsyncDisposable
    {
        public UsageRecorder Recorder { get; } = recorder;

        public async ValueTask DisposeAsync()
        {
            Recorder.Dispose();
            await Recorder.Store.DisposeAsync();
        }
    }

    /// <summary>CPU counters set by the test; an unknown container reads as gone. A read runs <see cref="BeforeRead"/> and <see cref="BeforeReadAsync"/> first.</summary>
    private sealed class FakeResourceReader : IContainerResourceReader
    {
        private readonly Dictionary<string, long> _cpu = [];

        /// <summary>Runs before a read, with its token; may throw (the read fails).</summary>
        public Action<CancellationToken>? BeforeRead { get; set; }

        /// <summary>Awaited before a read, with its token.</summary>
        public Func<CancellationToken, Task>? BeforeReadAsync { get; set; }

        public void Set(string containerId, long nanoseconds)
        {
            lock (_cpu)
            {
                _cpu[containerId] = nanoseconds;
            }
        }

        public void Remove(string containerId)
        {
            lock (_cpu)
            {
                _cpu.Remove(containerId);
            }
        }

        public async ValueTask<ContainerResourceSample?> ReadAsync(string containerId, CancellationToken cancellationToken = default)
        {
            BeforeRead?.Invoke(cancellationToken);
            if (BeforeReadAsync is { } wait)
            {
                await wait(cancellationToken);
            }

            lock (_cpu)
            {
                return _cpu.TryGetValue(containerId, out var ns) ? new ContainerResourceSample(ns, 1_000_000) : null;
            }
        }
    }

    [Fact]
    public async Task Query_UntilInTheFirstSecondOfAnHour_IncludesThatHour()
    {
        var hour = new DateTimeOffset(2026, 11, 30, 23, 0, 0, TimeSpan.Zero);
        await using (var store = new SqliteUsageStore(StorePath))
        {
            await store.AddAsync(App, [new UsageRow("Api", new string('a', 64), null, hour, UsageAmounts.Zero with { RunningMs = 1_000, Starts = 1 })]);
        }

        await using var reader = new SqliteUsageStore(StorePath);
        var rows = await reader.QueryAsync(App, hour, hour.AddMilliseconds(1));

        Assert.Equal(1_000, Assert.Single(rows).Amounts.RunningMs);
    }
}
