using Berth.Containers;
using Berth.Containers.Scaling;
using Berth.Runtime;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Berth.Gateway.Pools;

/// <summary>
/// A container class used as a pool of interchangeable (stateless) instances: each request goes to the least-loaded
/// running instance, and an autoscaler keeps the instance count near <c>requests in flight / target_concurrency</c>
/// (see <see cref="ContainerPoolOptions"/> and docs/scaling.md). Get it with <see cref="ContainerNamespace{TContainer}.GetPool"/>
/// or route to it with <see cref="GatewayExtensions.MapPool{TContainer}"/>.
/// </summary>
/// <remarks>
/// The instances are ordinary container objects named <c>instance-0</c>, <c>instance-1</c>, … (the names
/// <see cref="ContainerNamespace{TContainer}.GetRandom"/> uses), so their start, sleep, stop and exit hooks all run.
/// Load is counted on this node: the requests this pool has sent to an instance and not yet finished, or the requests the
/// node's lease table counts in flight for it, whichever is higher.
/// </remarks>
public sealed class ContainerPool : IAsyncDisposable
{
    private readonly Func<int, ContainerStub> _stubs;
    private readonly IContainerExecOperations? _stats;
    private readonly ContainerLeaseRegistry _leases;
    private readonly ContainerPoolOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly PoolAutoscaler _autoscaler;
    private readonly ConcurrencyMeter _meter;
    private readonly PoolHoldQueue _queue;
    private readonly Slot[] _slots;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    // Read once: the source is disposed when the pool is, and a start or stop still running then must see a cancelled token.
    private readonly CancellationToken _stoppingToken;
    private Task? _loop;
    private int _active;
    private int _disposed;
    private int _startFailures;
    private ContainerReadyResult? _lastStartFailure;

    internal ContainerPool(string className, int maxInstances, ContainerPoolOptions options, Func<int, ContainerStub> stubs,
        ContainerLeaseRegistry leases, IContainerExecOperations? stats, TimeProvider timeProvider, ILogger logger)
    {
        _stats = stats;
        ClassName = className;
        _options = options;
        _stubs = stubs;
        _leases = leases;
        _timeProvider = timeProvider;
        _logger = logger;
        _autoscaler = new PoolAutoscaler(options, maxInstances);
        _meter = new ConcurrencyMeter(timeProvider);
        _queue = new PoolHoldQueue(options.MaxQueuedRequests, options.QueueTimeout, timeProvider);
        _slots = new Slot[maxInstances];
        _active = Math.Min(options.MinimumInstances, maxInstances);
        _stoppingToken = _stopping.Token;
    }

    /// <summary>The container class name.</summary>
    public string ClassName { get; }

    /// <summary>Instances the autoscaler wants now (the first <see cref="DesiredInstances"/> names are in use).</summary>
    public int DesiredInstances
    {
        get
        {
            lock (_gate)
            {
                return _active;
            }
        }
    }

    /// <summary>Instances of the pool whose container runs on this node and takes requests now.</summary>
    public int RunningInstances => CountRunning(activeOnly: false);

    private int CountRunning(bool activeOnly)
    {
        {
            var running = 0;
            var count = activeOnly ? Math.Min(Volatile.Read(ref _active), _slots.Length) : _slots.Length;
            for (var i = 0; i < count; i++)
            {
                if (_slots[i] is { } slot && _leases.Find(ClassName, slot.ObjectId) is { IsOpen: true })
                {
                    running++;
                }
            }

            return running;
        }
    }

    /// <summary>Requests waiting for an instance now.</summary>
    public int QueuedRequests => _queue.Waiting;

    /// <summary>Requests in flight through the pool now (served or waiting).</summary>
    public int InFlight => _meter.Current;

    /// <summary>
    /// Sends the current request to the least-loaded running instance (its default port, or <paramref name="port"/>) and
    /// writes the response. When no instance runs, the request waits in the pool's bounded queue while one starts; beyond
    /// <see cref="ContainerPoolOptions.MaxQueuedRequests"/> it is answered <c>503 queue_full</c>, after
    /// <see cref="ContainerPoolOptions.QueueTimeout"/> <c>503 queue_timeout</c>, both with <c>Retry-After</c>.
    /// Never throws for a failure on the container path (as <see cref="ContainerStub.FetchAsync"/>).
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="port">The container port; <see langword="null"/> for the default (or the one chosen with <c>SwitchPort</c>).</param>
    public async Task FetchAsync(HttpContext context, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        EnsureRunning();
        _meter.Enter();
        try
        {
            var slot = TryPick();
            if (slot is null)
            {
                slot = await HoldAsync(context);
                if (slot is null)
                {
                    return;
                }
            }

            try
            {
                await slot.Stub.FetchAsync(context, port);
            }
            finally
            {
                Interlocked.Decrement(ref slot.Assigned);
            }
        }
        finally
        {
            _meter.Exit();
        }
    }

    /// <summary>Stops the autoscaler (the instances keep running until they sleep or the host stops them).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        Task? loop;
        lock (_gate)
        {
            loop = _loop;
        }

        await _stopping.CancelAsync();
        if (loop is not null)
        {
            try
            {
                await loop;
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        }

        _stopping.Dispose();
    }

    /// <summary>Starts the autoscaler's loop once.</summary>
    internal void EnsureRunning()
    {
        if (Volatile.Read(ref _loop) is null && Volatile.Read(ref _disposed) == 0)
        {
            lock (_gate)
            {
                _loop ??= Task.Run(() => LoopAsync(_stoppingToken));
            }
        }
    }

    private async Task<Slot?> HoldAsync(HttpContext context)
    {
        var failuresBefore = Volatile.Read(ref _startFailures);
        StartMissing(atLeastOne: true);
        Slot? picked = null;
        HoldOutcome outcome;
        // Ends when the host begins to stop as well: Kestrel's graceful stop waits for this request (HostStopping).
        using var waiting = HostStopping.Link(context.RequestServices, context.RequestAborted);
        try
        {
            outcome = await _queue.WaitAsync(() => (picked = TryPick()) is not null, waiting.Token);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left while it waited: it has left the queue too.
            return null;
        }
        catch (OperationCanceledException) when (waiting.IsCancellationRequested)
        {
            Log.WaitEndedHostStopping(_logger, ClassName, "(pool)", "the pool's hold queue");
            await GatewayErrorWriter.WriteHostStoppingAsync(context, $"an instance of pool {ClassName}");
            return null;
        }

        switch (outcome)
        {
            case HoldOutcome.Admitted:
                return picked;
            case HoldOutcome.Full:
                Log.PoolQueueFull(_logger, ClassName, _queue.Capacity);
                await GatewayErrorWriter.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, GatewayErrorCodes.QueueFull,
                    $"Pool {ClassName} has no running instance and already holds its max_queued_requests of {_queue.Capacity} waiting requests; retry later.", retryAfter: true);
                return null;
            case HoldOutcome.Failed when Volatile.Read(ref _startFailures) != failuresBefore && Volatile.Read(ref _lastStartFailure) is { } failure:
                await GatewayErrorWriter.WriteReadyErrorAsync(context, failure.Error, failure.Message ?? "The pool's instance could not be started.", failure.RetryAfter);
                return null;
            default:
                Log.PoolQueueTimeout(_logger, ClassName, _queue.Timeout);
                await GatewayErrorWriter.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, GatewayErrorCodes.QueueTimeout,
                    $"Pool {ClassName} had no instance ready within its queue_timeout of {_queue.Timeout.TotalSeconds:0.###} s; retry later.", retryAfter: true);
                return null;
        }
    }

    /// <summary>The least-loaded running instance among those in use, counted as assigned one more request; null when none runs.</summary>
    private Slot? TryPick()
    {
        lock (_gate)
        {
            Slot? best = null;
            var bestLoad = int.MaxValue;
            for (var i = 0; i < _active; i++)
            {
                var slot = GetSlot(i);
                if (_leases.Find(ClassName, slot.ObjectId) is not { IsOpen: true } lease)
                {
                    continue;
                }

                var load = Math.Max(Volatile.Read(ref slot.Assigned), lease.InFlight);
                if (load < bestLoad || (load == bestLoad && best is not null && slot.CpuPercent < best.CpuPercent))
                {
                    best = slot;
                    bestLoad = load;
                }
            }

            if (best is not null)
            {
                Interlocked.Increment(ref best.Assigned);
            }

            return best;
        }
    }

    private Slot GetSlot(int index) => _slots[index] ??= new Slot(_stubs(index));

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(_options.TickInterval, _timeProvider, cancellationToken);
            try
            {
                Tick();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.PoolTickFailed(_logger, ClassName, ex);
            }
        }
    }

    /// <summary>One autoscaler step: sample, decide, resize, start what is missing, stop what drained.</summary>
    internal void Tick()
    {
        var concurrency = _meter.TakeAverage();
        var ready = CountRunning(activeOnly: true);
        var cpu = SampleCpu();
        var decision = _autoscaler.Decide(_timeProvider.GetUtcNow(), concurrency, ready, cpu);
        int before;
        lock (_gate)
        {
            before = _active;
            _active = decision.Desired;
            for (var i = 0; i < _slots.Length; i++)
            {
                if (_slots[i] is { } slot)
                {
                    slot.Draining = i >= _active;
                }
            }
        }

        if (decision.Desired != before)
        {
            Log.PoolScaled(_logger, ClassName, before, decision.Desired, decision.Ready, decision.StableConcurrency, decision.PanicConcurrency,
                decision.StableWanted, decision.PanicWanted, _options.TargetConcurrency, decision.Panic, decision.StableCpuPercent, decision.CpuWanted);
        }

        StartMissing(atLeastOne: false);
        StopDrained();
        if (_queue.Waiting > 0 && ready > 0)
        {
            _queue.Release();
        }
    }

    /// <summary>
    /// The total CPU of the running instances in use (percent of one core) from the last samples, and starts the next
    /// samples in the background (an engine sample takes about a second). 0 without <see cref="ContainerPoolOptions.CpuTarget"/>.
    /// </summary>
    private double SampleCpu()
    {
        if (_options.CpuTarget is null || _stats is null)
        {
            return 0;
        }

        double total = 0;
        var active = DesiredInstances;
        for (var i = 0; i < active; i++)
        {
            var slot = GetSlotLocked(i);
            if (_leases.Find(ClassName, slot.ObjectId) is not { Endpoint: { } endpoint })
            {
                slot.CpuPercent = 0;
                continue;
            }

            total += slot.CpuPercent;
            if (Interlocked.CompareExchange(ref slot.Sampling, 1, 0) == 0)
            {
                _ = SampleCpuAsync(slot, endpoint.ContainerId);
            }
        }

        return total;
    }

    private async Task SampleCpuAsync(Slot slot, string containerId)
    {
        try
        {
            var stats = await _stats!.GetStatsAsync(containerId, _stoppingToken);
            slot.CpuPercent = stats.CpuPercent;
        }
        catch (Exception ex) when (ex is ContainerRuntimeException or OperationCanceledException or HttpRequestException or IOException)
        {
            // Gone or stopping: the next tick reads it as 0 when its lease is closed.
        }
        finally
        {
            Volatile.Write(ref slot.Sampling, 0);
        }
    }

    private Slot GetSlotLocked(int index)
    {
        lock (_gate)
        {
            return GetSlot(index);
        }
    }

    /// <summary>Starts every instance in use whose container does not run (with <paramref name="atLeastOne"/>: uses one at least).</summary>
    private void StartMissing(bool atLeastOne)
    {
        lock (_gate)
        {
            if (atLeastOne && _active == 0)
            {
                _active = 1;
                GetSlot(0).Draining = false;
                Log.PoolScaled(_logger, ClassName, 0, 1, 0, 0, 0, 1, 1, _options.TargetConcurrency, false, 0, 0);
            }

            for (var i = 0; i < _active; i++)
            {
                var slot = GetSlot(i);
                if (slot.Starting is null && _leases.Find(ClassName, slot.ObjectId) is not { IsOpen: true })
                {
                    slot.Starting = StartAsync(slot);
                }
            }
        }
    }

    private async Task StartAsync(Slot slot)
    {
        await Task.Yield();
        try
        {
            if (slot.Stopping is { } stopping)
            {
                await stopping;
            }

            var result = await slot.Stub.Object.EnsureReadyAsync(0, _stoppingToken);
            if (result.Endpoint is null)
            {
                Log.PoolStartFailed(_logger, ClassName, slot.Stub.Id.Name ?? slot.ObjectId, result.Error, result.Message);
                Volatile.Write(ref _lastStartFailure, result);
                Interlocked.Increment(ref _startFailures);
            }
        }
        catch (OperationCanceledException) when (_stoppingToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            Log.PoolStartFailed(_logger, ClassName, slot.Stub.Id.Name ?? slot.ObjectId, ContainerReadyError.StartFailed, ex.Message);
            Volatile.Write(ref _lastStartFailure, new ContainerReadyResult(null, ContainerReadyError.StartFailed, ex.Message));
            Interlocked.Increment(ref _startFailures);
        }
        finally
        {
            bool anyStarting;
            lock (_gate)
            {
                slot.Starting = null;
                anyStarting = _slots.Any(s => s?.Starting is not null);
            }

            if (RunningInstances > 0)
            {
                _queue.Release();
            }
            else if (!anyStarting)
            {
                // Nothing runs and nothing is starting: the waiters get the start's error now rather than a timeout.
                _queue.Fail();
            }
        }
    }

    /// <summary>Stops the containers of instances no longer in use once no request of theirs is in flight.</summary>
    private void StopDrained()
    {
        lock (_gate)
        {
            for (var i = _active; i < _slots.Length; i++)
            {
                if (_slots[i] is not { Draining: true, Stopping: null, Starting: null } slot
                    || _leases.Find(ClassName, slot.ObjectId) is not { IsOpen: true } lease
                    || Volatile.Read(ref slot.Assigned) > 0 || lease.InFlight > 0)
                {
                    continue;
                }

                slot.Stopping = StopAsync(slot);
            }
        }
    }

    private async Task StopAsync(Slot slot)
    {
        await Task.Yield();
        try
        {
            Log.PoolStopping(_logger, ClassName, slot.Stub.Id.Name ?? slot.ObjectId);
            await slot.Stub.Object.StopAsync(ContainerSignal.SIGTERM, _stoppingToken);
        }
        catch (OperationCanceledException) when (_stoppingToken.IsCancellationRequested)
        {
            // The host stops.
        }
        catch (Exception ex)
        {
            Log.PoolStopFailed(_logger, ClassName, slot.Stub.Id.Name ?? slot.ObjectId, ex);
        }
        finally
        {
            lock (_gate)
            {
                slot.Stopping = null;
            }
        }
    }

    private sealed class Slot(ContainerStub stub)
    {
        public readonly ContainerStub Stub = stub;
        public readonly string ObjectId = stub.Id.ToString();
        public int Assigned;
        public int Sampling;
        public double CpuPercent;
        public bool Draining;
        public Task? Starting;
        public Task? Stopping;
    }
}
