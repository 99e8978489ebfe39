using System.Collections.Concurrent;
using System.Globalization;
using Berth.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Berth.Containers;

/// <summary>Why the disk watch killed a container: what it wrote and its limit, in bytes.</summary>
/// <param name="WrittenBytes">Size of its writable layer when measured.</param>
/// <param name="LimitBytes">Its instance type's disk (<see cref="InstanceType.DiskBytes"/>).</param>
internal sealed record DiskLimitVerdict(long WrittenBytes, long LimitBytes)
{
    /// <summary>The object's status reason: "wrote N MB to its writable layer, over its M MB disk".</summary>
    public string Reason => string.Create(CultureInfo.InvariantCulture,
        $"wrote {WrittenBytes / 1_000_000} MB to its writable layer, over its {LimitBytes / 1_000_000} MB disk");
}

/// <summary>
/// The node's disk watch: where the engine's storage driver cannot bound a container's writable layer (overlay2 on ext4),
/// measures each watched container every <see cref="ContainerOptions.DiskWatchInterval"/>, one at a time, and kills
/// (SIGKILL) one whose layer is over its disk. The container object learns why from <see cref="TakeVerdict"/> when it
/// handles the exit.
/// </summary>
internal sealed class ContainerDiskWatch : IDisposable
{
    private readonly IContainerOperations _runtime;
    private readonly IContainerDiskUsage? _usage;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Watched> _watched = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DiskLimitVerdict> _verdicts = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _timerLock = new();
    private ITimer? _timer;

    /// <summary>Creates the watch; it measures only when <paramref name="runtime"/> is also an <see cref="IContainerDiskUsage"/>.</summary>
    public ContainerDiskWatch(IContainerOperations runtime, IOptions<ContainerOptions> options, TimeProvider time, ILogger<ContainerDiskWatch>? logger = null)
    {
        _runtime = runtime;
        _usage = runtime as IContainerDiskUsage;
        _time = time;
        _interval = options.Value.DiskWatchInterval;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>The containers being watched (for tests and diagnostics).</summary>
    public int Count => _watched.Count;

    /// <summary>Starts watching <paramref name="containerId"/> against <paramref name="limitBytes"/>; the first measure is one interval away.</summary>
    public void Watch(string containerId, long limitBytes, string className, string objectName)
    {
        if (_usage is null || _disposed.IsCancellationRequested)
        {
            return;
        }

        _verdicts.TryRemove(containerId, out _);
        _watched[containerId] = new Watched(limitBytes, className, objectName);
        lock (_timerLock)
        {
            _timer ??= _time.CreateTimer(static state => ((ContainerDiskWatch)state!).OnTick(), this, _interval, _interval);
        }
    }

    /// <summary>Stops watching <paramref name="containerId"/> and returns why the watch killed it, if it did.</summary>
    public DiskLimitVerdict? TakeVerdict(string containerId)
    {
        _watched.TryRemove(containerId, out _);
        return _verdicts.TryRemove(containerId, out var verdict) ? verdict : null;
    }

    private void OnTick()
    {
        if (!_oneAtATime.Wait(0))
        {
            // The previous pass is still measuring: skip this tick rather than pile up.
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await MeasureCoreAsync(_disposed.Token);
            }
            catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                Log.DiskMeasureFailed(_logger, "*", ex.Message);
            }
            finally
            {
                ReleaseGate();
            }
        }, CancellationToken.None);
    }

    /// <summary>One pass over the watched containers, after any pass in flight.</summary>
    public async Task MeasureAsync(CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            await MeasureCoreAsync(cancellationToken);
        }
        finally
        {
            ReleaseGate();
        }
    }

    private void ReleaseGate()
    {
        try
        {
            _oneAtATime.Release();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task MeasureCoreAsync(CancellationToken cancellationToken)
    {
        if (_usage is null || _watched.IsEmpty || await _usage.SupportsDiskLimitsAsync(cancellationToken))
        {
            return;
        }

        foreach (var (id, watched) in _watched.ToArray())
        {
            long? written;
            try
            {
                written = await _usage.GetWritableLayerBytesAsync(id, cancellationToken);
            }
            catch (ContainerRuntimeException ex) when (ex.Error == ContainerRuntimeError.ContainerNotFound)
            {
                written = null;
            }
            catch (ContainerRuntimeException ex)
            {
                Log.DiskMeasureFailed(_logger, Short(id), ex.Message);
                continue;
            }

            if (written is not { } bytes)
            {
                // Gone between the snapshot and the measure: its object handles the exit.
                _watched.TryRemove(new KeyValuePair<string, Watched>(id, watched));
                continue;
            }

            if (bytes <= watched.LimitBytes || !_watched.ContainsKey(id))
            {
                continue;
            }

            var verdict = new DiskLimitVerdict(bytes, watched.LimitBytes);
            _verdicts[id] = verdict;
            Log.DiskLimitExceeded(_logger, watched.ClassName, watched.ObjectName, Short(id), bytes / 1_000_000, watched.LimitBytes / 1_000_000);
            try
            {
                await _runtime.SignalAsync(id, ContainerSignal.SIGKILL, cancellationToken);
                _watched.TryRemove(new KeyValuePair<string, Watched>(id, watched));
            }
            catch (ContainerRuntimeException ex) when (ex.Error == ContainerRuntimeError.ContainerNotFound)
            {
                _watched.TryRemove(new KeyValuePair<string, Watched>(id, watched));
            }
            catch (ContainerRuntimeException ex)
            {
                // Still watched: the next pass kills it again.
                Log.DiskMeasureFailed(_logger, Short(id), ex.Message);
            }
        }
    }

    private static string Short(string id) => id[..Math.Min(12, id.Length)];

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        lock (_timerLock)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }

    private sealed record Watched(long LimitBytes, string ClassName, string ObjectName);
}
