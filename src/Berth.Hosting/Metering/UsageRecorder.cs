using System.Threading.Channels;
using Berth.Containers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>
/// Meters containers (docs/metering.md): an <see cref="IContainerStateObserver"/> that turns state changes into running
/// intervals, and a hosted service that samples running containers' CPU and writes the usage to <see cref="SqliteUsageStore"/>
/// every <see cref="MeteringOptions.FlushInterval"/> and when the host stops.
/// </summary>
/// <remarks>
/// <para>An interval runs from the change into <see cref="ContainerObjectState.Running"/> (the engine started the container:
/// billing starts at the start, as the seed's "charges start when containers … are started") to the change into
/// <see cref="ContainerObjectState.Stopped"/> or <see cref="ContainerObjectState.StoppedWithCode"/> (the container exited:
/// its shutdown after the stop signal runs, and is billed, like the engine counts it). Each interval's duration is rounded up to the next 10 ms (the seed bills "per 10ms"), and split across the UTC
/// hours it spans. Memory (GiB-s) and disk (GB-s) are the instance type's over that duration; CPU is the container's cgroup
/// counter, since its creation, sampled every flush and at the stop; egress is the growth of the change's egress byte count.</para>
/// <para><see cref="OnStateChanged"/> only enqueues; the work happens on the service's loop, never on the request path.</para>
/// </remarks>
public sealed partial class UsageRecorder : BackgroundService, IContainerStateObserver
{
    /// <summary>The billing granularity: every running interval is rounded up to a multiple of this (10 ms).</summary>
    public static readonly TimeSpan Granularity = TimeSpan.FromMilliseconds(10);

    private readonly Channel<ContainerStateChange> _changes = Channel.CreateUnbounded<ContainerStateChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _work = new(1, 1);
    private readonly Lock _lock = new();
    private readonly SqliteUsageStore _store;
    private readonly IContainerResourceReader _reader;
    private readonly MeteringOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    // Under _lock: running instances by (app, class, object), and usage recorded but not yet written, by app and row key.
    private readonly Dictionary<(string App, string Class, string Object), Instance> _running = [];
    private readonly Dictionary<(string App, string Class, string Object, DateTimeOffset Hour), Pending> _pending = [];

    /// <summary>Creates the recorder.</summary>
    public UsageRecorder(SqliteUsageStore store, IContainerResourceReader reader, IOptions<MeteringOptions> options, TimeProvider time, ILogger<UsageRecorder>? logger = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _reader = reader ?? throw new ArgumentNullException(nameof(reader));
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Value;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The store the usage is written to.</summary>
    public SqliteUsageStore Store => _store;

    /// <inheritdoc />
    public void OnStateChanged(ContainerStateChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (_options.Enabled)
        {
            _changes.Writer.TryWrite(change);
        }
    }

    /// <summary>
    /// Applies the changes enqueued so far, samples the running containers' CPU, and writes all recorded usage to the store.
    /// Runs every <see cref="MeteringOptions.FlushInterval"/> and when the host stops; callable any time (one at a time).
    /// </summary>
    /// <exception cref="Microsoft.Data.Sqlite.SqliteException">The store could not be written; the usage stays pending for the next flush.</exception>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _work.WaitAsync(cancellationToken);
        try
        {
            await ApplyChangesAsync(cancellationToken);
            await SampleRunningAsync(cancellationToken);
            await WritePendingAsync(cancellationToken);
        }
        finally
        {
            _work.Release();
        }
    }

    /// <summary>
    /// The usage of <paramref name="appName"/> not yet in the store: pending rows plus the running instances' time up to now
    /// (and their CPU up to the last sample). Changes still in the queue are applied first.
    /// </summary>
    /// <remarks>
    /// Not to be added to a separate read of the store: a flush between the two moves usage from one to the other (counted
    /// twice or not at all). <see cref="GetUsageAsync"/> reads both together.
    /// </remarks>
    public async Task<IReadOnlyList<UsageRow>> GetLiveAsync(string appName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(appName);
        await _work.WaitAsync(cancellationToken);
        try
        {
            await ApplyChangesAsync(cancellationToken);
            return Live(appName);
        }
        finally
        {
            _work.Release();
        }
    }

    /// <summary>
    /// The usage of <paramref name="appName"/> in the UTC hours that overlap [<paramref name="since"/>, <paramref name="until"/>):
    /// the stored rows (<see cref="SqliteUsageStore.QueryAsync"/>) and the live ones (<see cref="GetLiveAsync"/>), possibly
    /// several per key, read as one: no flush runs between the two reads, so every recorded moment is in exactly one of them.
    /// </summary>
    /// <param name="appName">The app.</param>
    /// <param name="since">The start of the window; rows of the hour it is in are included.</param>
    /// <param name="until">The end of the window (exclusive).</param>
    /// <param name="className">Only this class; <see langword="null"/> (the default) for all.</param>
    /// <param name="cancellationToken">Cancels the read; changes applied before it stay applied.</param>
    /// <remarks>
    /// A running container's live time runs to now. When its container has exited but its stop was not yet recorded (the
    /// object records it after removing the container, at the engine's exit time), that includes the moments since the exit:
    /// provisional, taken back when the stop is recorded.
    /// </remarks>
    /// <exception cref="Microsoft.Data.Sqlite.SqliteException">The store could not be read.</exception>
    public async Task<IReadOnlyList<UsageRow>> GetUsageAsync(
        string appName, DateTimeOffset since, DateTimeOffset until, string? className = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(appName);
        await _work.WaitAsync(cancellationToken);
        try
        {
            await ApplyChangesAsync(cancellationToken);
            var stored = await _store.QueryAsync(appName, since, until, className, cancellationToken);
            var first = UsageHours.Floor(since);
            return [.. stored, .. Live(appName).Where(r => (className is null || r.ClassName == className) && r.Hour >= first && r.Hour < until)];
        }
        finally
        {
            _work.Release();
        }
    }

    /// <summary>Pending rows and running instances up to now, of <paramref name="appName"/>; called holding <see cref="_work"/>.</summary>
    private List<UsageRow> Live(string appName)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            var live = new Dictionary<(string App, string Class, string Object, DateTimeOffset Hour), Pending>();
            foreach (var (key, pending) in _pending)
            {
                if (key.App == appName)
                {
                    live[key] = pending.Clone();
                }
            }

            foreach (var (key, instance) in _running)
            {
                if (key.App == appName)
                {
                    Accrue(key, instance.Clone(), now, final: false, live);
                }
            }

            return [.. live.Select(p => new UsageRow(p.Key.Class, p.Key.Object, p.Value.ObjectName, p.Key.Hour, p.Value.Amounts))];
        }
    }

    /// <summary>When the container <paramref name="containerId"/> started running, if this recorder saw it start and it still runs.</summary>
    public DateTimeOffset? GetStartedAt(string containerId)
    {
        lock (_lock)
        {
            foreach (var instance in _running.Values)
            {
                if (instance.ContainerId == containerId)
                {
                    return instance.Start;
                }
            }
        }

        return null;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        // Changes are applied as they come, so a stop's CPU sample is read while the container is still there.
        var consume = ConsumeAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.FlushInterval, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            try
            {
                await FlushAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Log.UsageFlushFailed(_logger, _store.FilePath, ex.Message);
            }
        }

        await consume;
    }

    private async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _changes.Reader.WaitToReadAsync(stoppingToken))
            {
                await _work.WaitAsync(stoppingToken);
                try
                {
                    await ApplyChangesAsync(stoppingToken);
                }
                finally
                {
                    _work.Release();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the last flush applies what is left.
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!_options.Enabled)
        {
            return;
        }

        try
        {
            // The last flush: what ran up to now is kept (running containers are accounted up to this moment).
            await FlushAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.UsageFlushFailed(_logger, _store.FilePath, ex.Message);
        }
    }

    private async Task ApplyChangesAsync(CancellationToken cancellationToken)
    {
        // Peeked, and taken only once applied: a change is never lost to a cancelled read (a lost stop would bill on and on).
        while (_changes.Reader.TryPeek(out var change))
        {
            var wasRunning = IsRunning(change.Previous);
            var isRunning = IsRunning(change.State);
            var key = (change.AppName, change.ClassName, change.ObjectId);
            ContainerResourceSample? final = null;
            if (!isRunning && change.ContainerId is { } stoppedId)
            {
                // The stop's CPU sample, while the container may still be there; after it is gone the last sample stands.
                final = await ReadSampleAsync(stoppedId, cancellationToken);
            }

            lock (_lock)
            {
                _running.TryGetValue(key, out var instance);
                if (instance is not null && change.ContainerId is { } id && instance.ContainerId != id)
                {
                    // Another container took its place without a stop we saw: the old one ends here.
                    Close(key, instance, change.At, null);
                    instance = null;
                }

                if (instance is not null)
                {
                    instance.ObjectName = change.ObjectName ?? instance.ObjectName;
                    AddEgress(key, instance, change.EgressBytesOut, change.At);
                    if (change.State == ContainerObjectState.Stopping)
                    {
                        // Still running until it exits: its CPU so far is counted now, while the container is there.
                        AddCpu(key, instance, final, change.At);
                    }
                    else if (!isRunning)
                    {
                        Close(key, instance, change.At, final);
                    }
                }
                else if (isRunning && change.ContainerId is { } startedId)
                {
                    var started = new Instance(startedId, change.At, change.InstanceType ?? InstanceType.Lite, change.ObjectName)
                    {
                        EgressBytes = change.EgressBytesOut,
                    };
                    _running[key] = started;
                    if (!wasRunning)
                    {
                        var pending = PendingFor(key, UsageHours.Floor(change.At), change.ObjectName);
                        pending.Amounts = pending.Amounts with { Starts = pending.Amounts.Starts + 1 };
                    }
                }
            }

            _changes.Reader.TryRead(out _);
        }
    }

    /// <summary>The container's counters, or <see langword="null"/> when they cannot be read (logged): CPU is then counted at the next sample.</summary>
    private async Task<ContainerResourceSample?> ReadSampleAsync(string containerId, CancellationToken cancellationToken)
    {
        try
        {
            return await _reader.ReadAsync(containerId, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.ResourceReadFailed(_logger, containerId, ex.Message);
            return null;
        }
    }

    private async Task SampleRunningAsync(CancellationToken cancellationToken)
    {
        List<((string, string, string) Key, Instance Instance)> running;
        lock (_lock)
        {
            running = [.. _running.Select(r => (r.Key, r.Value))];
        }

        foreach (var (key, instance) in running)
        {
            var sample = await ReadSampleAsync(instance.ContainerId, cancellationToken);
            var now = _time.GetUtcNow();
            lock (_lock)
            {
                if (_running.TryGetValue(key, out var current) && ReferenceEquals(current, instance))
                {
                    AddCpu(key, instance, sample, now);
                    Accrue(key, instance, now, final: false, _pending);
                }
            }
        }
    }

    private async Task WritePendingAsync(CancellationToken cancellationToken)
    {
        List<IGrouping<string, KeyValuePair<(string App, string Class, string Object, DateTimeOffset Hour), Pending>>> batches;
        lock (_lock)
        {
            batches = [.. _pending.Where(p => !p.Value.Amounts.IsZero).GroupBy(p => p.Key.App)];
            _pending.Clear();
        }

        for (var i = 0; i < batches.Count; i++)
        {
            var batch = batches[i];
            try
            {
                await _store.AddAsync(batch.Key, [.. batch.Select(p => new UsageRow(p.Key.Class, p.Key.Object, p.Value.ObjectName, p.Key.Hour, p.Value.Amounts))], cancellationToken);
            }
            catch
            {
                // Not written: back into pending (added to whatever came since), for the next flush.
                lock (_lock)
                {
                    foreach (var rest in batches.Skip(i).SelectMany(b => b))
                    {
                        var pending = PendingFor((rest.Key.App, rest.Key.Class, rest.Key.Object), rest.Key.Hour, rest.Value.ObjectName);
                        pending.Amounts = pending.Amounts.Add(rest.Value.Amounts);
                    }
                }

                throw;
            }
        }
    }

    private static bool IsRunning(ContainerObjectState state) => state is ContainerObjectState.Running or ContainerObjectState.Healthy;

    private void Close((string App, string Class, string Object) key, Instance instance, DateTimeOffset end, ContainerResourceSample? final)
    {
        AddCpu(key, instance, final, end);
        Accrue(key, instance, end, final: true, _pending);
        _running.Remove(key);
    }

    private void AddCpu((string App, string Class, string Object) key, Instance instance, ContainerResourceSample? sample, DateTimeOffset at)
    {
        if (sample is null || sample.CpuNanoseconds <= instance.CpuNanoseconds)
        {
            return;
        }

        var pending = PendingFor(key, UsageHours.Floor(at), instance.ObjectName);
        pending.Amounts = pending.Amounts with { CpuNanoseconds = pending.Amounts.CpuNanoseconds + (sample.CpuNanoseconds - instance.CpuNanoseconds) };
        instance.CpuNanoseconds = sample.CpuNanoseconds;
    }

    private void AddEgress((string App, string Class, string Object) key, Instance instance, long egressBytes, DateTimeOffset at)
    {
        if (egressBytes <= instance.EgressBytes)
        {
            return;
        }

        var pending = PendingFor(key, UsageHours.Floor(at), instance.ObjectName);
        pending.Amounts = pending.Amounts with { EgressBytes = pending.Amounts.EgressBytes + (egressBytes - instance.EgressBytes) };
        instance.EgressBytes = egressBytes;
    }

    /// <summary>
    /// Accounts <paramref name="instance"/>'s running time up to <paramref name="until"/> into <paramref name="into"/>: on the
    /// billed timeline [start, start + billed), split at UTC hours. The billed time is whole milliseconds while it runs and the
    /// duration rounded up to the next 10 ms when it ends, so the sum over every accrual of one interval is exactly that.
    /// </summary>
    /// <remarks>
    /// A flush accrues a running instance up to its own clock, but a stop is recorded later, at the engine's exit time (after
    /// the container's removal): a flush in between accrued moments after the exit. The final accrual takes them back, from
    /// the hours they were put in, so the interval is billed exactly once whatever flushed in it.
    /// </remarks>
    private static void Accrue(
        (string App, string Class, string Object) key, Instance instance, DateTimeOffset until, bool final,
        Dictionary<(string App, string Class, string Object, DateTimeOffset Hour), Pending> into)
    {
        var elapsed = Math.Max(0, (until - instance.Start).Ticks);
        var target = final
            ? (elapsed + Granularity.Ticks - 1) / Granularity.Ticks * Granularity.Ticks / TimeSpan.TicksPerMillisecond
            : elapsed / TimeSpan.TicksPerMillisecond;
        if (target == instance.AccountedMs || (target < instance.AccountedMs && !final))
        {
            return;
        }

        // Forward: [accounted, target) added. Back (a final accrual before what was accounted): [target, accounted) taken off.
        var sign = target > instance.AccountedMs ? 1 : -1;
        var gib = instance.Type.MemoryMib / 1024.0;
        var gb = instance.Type.DiskMb / 1000.0;
        var cursor = instance.Start.AddMilliseconds(Math.Min(target, instance.AccountedMs));
        var remaining = Math.Abs(target - instance.AccountedMs);
        while (remaining > 0)
        {
            var hour = UsageHours.Floor(cursor);
            var toNextHour = (long)Math.Ceiling((hour.AddHours(1) - cursor).TotalMilliseconds);
            var part = Math.Min(remaining, Math.Max(1, toNextHour));
            var seconds = sign * part / 1000.0;
            var pending = PendingFor(into, (key.App, key.Class, key.Object, hour), instance.ObjectName);
            pending.Amounts = pending.Amounts with
            {
                RunningMs = pending.Amounts.RunningMs + sign * part,
                MemoryGibSeconds = pending.Amounts.MemoryGibSeconds + seconds * gib,
                DiskGbSeconds = pending.Amounts.DiskGbSeconds + seconds * gb,
            };
            remaining -= part;
            cursor = cursor.AddMilliseconds(part);
        }

        instance.AccountedMs = target;
    }

    private Pending PendingFor((string App, string Class, string Object) key, DateTimeOffset hour, string? objectName) =>
        PendingFor(_pending, (key.App, key.Class, key.Object, hour), objectName);

    private static Pending PendingFor(
        Dictionary<(string App, string Class, string Object, DateTimeOffset Hour), Pending> into,
        (string App, string Class, string Object, DateTimeOffset Hour) key, string? objectName)
    {
        if (!into.TryGetValue(key, out var pending))
        {
            into[key] = pending = new Pending();
        }

        pending.ObjectName = objectName ?? pending.ObjectName;
        return pending;
    }

    /// <summary>One running container: its interval so far.</summary>
    private sealed class Instance(string containerId, DateTimeOffset start, InstanceType type, string? objectName)
    {
        public string ContainerId { get; } = containerId;

        public DateTimeOffset Start { get; } = start;

        public InstanceType Type { get; } = type;

        public string? ObjectName { get; set; } = objectName;

        /// <summary>Running time already accounted, in ms from <see cref="Start"/>.</summary>
        public long AccountedMs { get; set; }

        /// <summary>CPU counter already accounted, ns.</summary>
        public long CpuNanoseconds { get; set; }

        /// <summary>Egress bytes already accounted.</summary>
        public long EgressBytes { get; set; }

        public Instance Clone() => new(ContainerId, Start, Type, ObjectName) { AccountedMs = AccountedMs, CpuNanoseconds = CpuNanoseconds, EgressBytes = EgressBytes };
    }

    /// <summary>Usage of one row not yet written.</summary>
    private sealed class Pending
    {
        public UsageAmounts Amounts { get; set; } = UsageAmounts.Zero;

        public string? ObjectName { get; set; }

        public Pending Clone() => new() { Amounts = Amounts, ObjectName = ObjectName };
    }
}
