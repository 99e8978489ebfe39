using System.Text;
using Berth.Objects;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Containers;

/// <summary>
/// Base class of a durable object that owns one container: started on the first request, kept
/// running while used, put to sleep after <see cref="SleepAfter"/>, restarted on the next request.
/// Derive from it, set the properties in the constructor and override the hooks you need.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Orleans owns the object's lifetime; the monitor's source is cancelled and disposed when the container exits or the object deactivates.")]
public abstract partial class Container : DurableObject, IContainer, IContainerLifecycle
{
    private const string StatusKey = "_berth/container/status";

    private IContainerOperations _runtime = null!;
    private IContainerExecOperations _exec = null!;
    private ContainerLeaseRegistry _registry = null!;
    private ContainerNetworks _networks = null!;
    private ContainerOptions _options = null!;
    private ContainerClass _class = null!;
    private IContainerProbe _probe = null!;
    private TimeProvider _time = null!;
    private ILogger _logger = null!;
    private CrashLoopTracker _crashes = null!;
    // The last failed start's one-line summary (no output), for a crash loop's message; null once a container was ready.
    private string? _lastStartFailure;
    private ContainerDiskWatch? _diskWatch;
    private IContainerStateObserver[] _observers = [];

    private ContainerObjectStatus _status = new(ContainerObjectState.Stopped, null, null, null, DateTimeOffset.MinValue);
    private string? _ociRuntime;
    private string? _currentContainerId;
    private ContainerEndpoint? _endpoint;
    private ContainerLease? _lease;
    private IGrainTimer? _activityTimer;
    private ContainerExitMonitor? _monitor;
    private TaskCompletionSource<ContainerStopInfo> _stopped = NewExitSignal();
    private ContainerStopInfo? _lastStop;
    private ContainerInspection? _startInspection;
    private Dictionary<string, long>? _remoteHolds;
    private StopReason? _pendingStopReason;
    private bool _instanceReserved;
    private long _startedAt;
    private InstanceType? _runningInstanceType;
    private ContainerSignal? _stopSignal;

    // Work the object owns: callers wait on it in slices, and a caller that gives up does not cancel it.
    private Task<ContainerEndpoint?>? _start;
    private long _startGeneration;
    // Cancelled by a requested stop while the start waits for the container's ports (CutReadyWait).
    private CancellationTokenSource? _readyWait;
    private Task? _stop;
    private long _stopGeneration;
    private (string Id, Task<ContainerStopInfo> Task)? _exitHandling;
    private bool _inStartHook;

    /// <summary>Port requests go to when they name none.</summary>
    /// <value>Defaults to 8080.</value>
    protected int DefaultPort { get; set; } = 8080;

    /// <summary>Ports that must accept connections before the container counts as healthy (the default port always does).</summary>
    protected IReadOnlyList<int> RequiredPorts { get; set; } = [];

    /// <summary>Idle time after which <see cref="OnActivityExpiredAsync"/> runs.</summary>
    /// <value>Defaults to 10 minutes.</value>
    protected TimeSpan SleepAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Environment variables for the container.</summary>
    protected IDictionary<string, string> EnvVars { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Overrides the image's entrypoint when set.</summary>
    protected IReadOnlyList<string>? Entrypoint { get; set; }

    /// <summary>
    /// Whether the container runs an init process as PID 1 (the engine's <c>--init</c>) in front of the entrypoint; the app's
    /// config (<c>init</c>) overrides it. Set it when the entrypoint is a server without a SIGTERM handler: as PID 1 it
    /// ignores SIGTERM, and every stop then waits the whole grace period and ends in SIGKILL.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    protected bool Init { get; set; }

    /// <summary>HTTP path that must answer (any status below 500) before the container counts as healthy.</summary>
    protected string? PingEndpoint { get; set; }

    /// <summary>Resources of the container; the app's config overrides it.</summary>
    /// <value>Defaults to <see cref="InstanceType.Lite"/>.</value>
    protected InstanceType InstanceType { get; set; } = InstanceType.Lite;

    /// <summary>
    /// OCI runtime of the container: <c>runc</c>, or <c>runsc</c> for gVisor; the app's config (<c>runtime</c>) overrides it.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: the node's <c>Berth:Containers:Runtime</c>, else the engine's default (<c>runc</c>).</value>
    /// <exception cref="ArgumentException">Set to a value other than those in <see cref="ContainerClassOptions.AllowedRuntimes"/>.</exception>
    protected string? Runtime
    {
        get => _ociRuntime;
        set => _ociRuntime = value is null || ContainerClassOptions.IsAllowedRuntime(value)
            ? value
            : throw new ArgumentException(ContainerClassOptions.RuntimeError($"{ClassName}.Runtime", value), nameof(value));
    }

    /// <summary>The container class name (the C# class name), as used in the app's config.</summary>
    protected string ClassName => GetType().Name;

    /// <summary>The container's current state.</summary>
    protected ContainerObjectStatus Status => _status;

    /// <summary>
    /// The object's name (<see cref="Berth.Objects.DurableObjectContext.Name"/>), or its ID when no name is known (an ID from
    /// <c>NewUniqueId</c>, or no call by name reached it yet): what the logs call it.
    /// </summary>
    protected string ObjectName => Context.Name ?? Context.Id.ToString();

    /// <summary>
    /// A logger named after the class. Its records carry a scope naming the app, the class, the object (<c>ClassName</c>,
    /// <c>ObjectId</c>, <c>ObjectName</c> once known) and the running container (<c>ContainerId</c>), so live logs tag them
    /// with the class and object even when the message names neither.
    /// </summary>
    protected ILogger Logger => _logger;

    private TimeSpan EffectiveSleepAfter => _class.Options.SleepAfter ?? SleepAfter;

    /// <inheritdoc />
    protected override async Task OnObjectActivateAsync(CancellationToken cancellationToken)
    {
        var services = ServiceProvider;
        _runtime = services.GetRequiredService<IContainerOperations>();
        _exec = services.GetRequiredService<IContainerExecOperations>();
        _registry = services.GetRequiredService<ContainerLeaseRegistry>();
        _networks = services.GetRequiredService<ContainerNetworks>();
        _options = services.GetRequiredService<IOptions<ContainerOptions>>().Value;
        _class = services.GetRequiredService<ContainerClassRegistry>().Get(ClassName);
        _probe = services.GetRequiredService<IContainerProbe>();
        _time = Context.TimeProvider;
        _logger = new ContainerObjectLogger(services.GetRequiredService<ILoggerFactory>().CreateLogger(GetType()),
            () => new ContainerLogScope(_options.AppName, ClassName, Context.Id.ToString(), Context.Name, _currentContainerId));
        _crashes = new CrashLoopTracker(_options);
        _observers = [.. services.GetServices<IContainerStateObserver>()];
        _diskWatch = services.GetService<ContainerDiskWatch>();

        _status = Context.Storage.Get<ContainerObjectStatus>(StatusKey) ?? _status;
        if (_status.State is ContainerObjectState.Running or ContainerObjectState.Healthy or ContainerObjectState.Stopping && _status.ContainerId is { } leftOver)
        {
            await ResumeAsync(leftOver, cancellationToken);
        }
    }

    /// <inheritdoc />
    protected override Task OnObjectDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The container keeps running: a restarted platform adopts it through its labels.
        StopMonitor();
        _activityTimer?.Dispose();
        _activityTimer = null;
        CloseLease();
        CloseEgress();
        ReleaseInstance();
        return Task.CompletedTask;
    }

    /// <summary>Runs after the container started (before its ports are checked).</summary>
    protected virtual Task OnStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs after the container stopped, for whatever reason.</summary>
    protected virtual Task OnStopAsync(ContainerStopInfo stop, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs when the container failed to start or become ready.</summary>
    protected virtual Task OnErrorAsync(Exception error, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs when no request arrived for <see cref="SleepAfter"/>. The default stops the container (SIGTERM, then SIGKILL after the grace).</summary>
    protected virtual Task OnActivityExpiredAsync(CancellationToken cancellationToken) =>
        StopCoreAsync(ContainerSignal.SIGTERM, StopReason.Sleep, cancellationToken);

    /// <summary>Renews the activity deadline, as a request would.</summary>
    protected void RenewActivityTimeout() => _lease?.Touch();

    /// <summary>The ports this object waits for: the required ports, the default port and <paramref name="port"/>.</summary>
    private IReadOnlyList<int> PortsFor(int port) => ContainerSpecFactory.PortsFor(port, DefaultPort, RequiredPorts);

    /// <summary>The readiness conditions of a start; override to add your own (each with its own <see cref="ContainerWaitStrategy.Timeout"/>).</summary>
    /// <param name="ports">The ports the caller needs.</param>
    protected virtual IEnumerable<ContainerWaitStrategy> GetWaitStrategies(IReadOnlyList<int> ports)
    {
        foreach (var port in ports)
        {
            yield return new PortWaitStrategy(port, _options.ConnectProbeTimeout);
        }

        if (PingEndpoint is { } ping)
        {
            yield return new HttpPingWaitStrategy(ping, _options.PingTimeout);
        }
    }

    /// <inheritdoc />
    public async Task<ContainerReadySlice> WaitReadySliceAsync(ContainerReadyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var ports = request.Ports is { Count: > 0 } named ? named : PortsFor(request.Port <= 0 ? DefaultPort : request.Port);
        if (request.CallerNode is { } caller)
        {
            // Held from the ready answer on, so the request cannot lose its container before its node first reports it.
            HoldForRemote(caller);
        }

        // A caller that waited on a start that has ended since gets that start's result, not a new start.
        if (request.Generation != 0 && request.Generation == _startGeneration && _start is { IsCompleted: true } ended)
        {
            return new ContainerReadySlice(await ResultOfAsync(ended, ports, request.WaitForPorts), 0);
        }

        if (_start is not { IsCompleted: false })
        {
            if (IsReadyFor(ports) is { } ready)
            {
                _lease?.OpenFor(ready);
                _lease?.Touch();
                return new ContainerReadySlice(ContainerReadyResult.Ready(ready), 0);
            }

            if (!request.WaitForPorts && _currentContainerId is not null)
            {
                _lease?.Touch();
                return new ContainerReadySlice(ContainerReadyResult.Started, 0);
            }

            if (_currentContainerId is null && _crashes.IsBlocked(_time.GetUtcNow()))
            {
                // One reading of the clock, so the message and Retry-After name the same second.
                var wait = _crashes.BlockedUntil - _time.GetUtcNow();
                return new ContainerReadySlice(ContainerReadyResult.Fail(ContainerReadyError.CrashLoop, DescribeCrashLoop(withOutput: true, wait), wait), 0);
            }

            _startGeneration++;
            _start = RunStartAsync(ports, request.Options, request.WaitForPorts);
        }

        var start = _start;
        var generation = _startGeneration;
        if (!await CompletesWithinSliceAsync(start, cancellationToken))
        {
            return new ContainerReadySlice(null, generation);
        }

        return new ContainerReadySlice(await ResultOfAsync(start, ports, request.WaitForPorts), generation);
    }

    /// <inheritdoc />
    public async Task<ContainerStopSlice> StopSliceAsync(ContainerSignal signal, long generation, CancellationToken cancellationToken = default)
    {
        if (generation != 0 && generation == _stopGeneration && _stop is { IsCompleted: true })
        {
            return new ContainerStopSlice(true, 0);
        }

        if (_stop is not { IsCompleted: false })
        {
            if (_currentContainerId is null && _start is not { IsCompleted: false })
            {
                return new ContainerStopSlice(true, 0);
            }

            _stopGeneration++;
            _stop = RunStopAsync(signal);
        }

        var stop = _stop;
        var current = _stopGeneration;
        if (!await CompletesWithinSliceAsync(stop, cancellationToken))
        {
            return new ContainerStopSlice(false, current);
        }

        await stop;
        return new ContainerStopSlice(true, current);
    }

    /// <summary>Starts the container without waiting for its ports (from inside the object).</summary>
    /// <exception cref="ContainerStartException">The container could not be started.</exception>
    public async Task StartAsync(ContainerStartOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (_currentContainerId is not null && (_inStartHook || _start is not { IsCompleted: false }))
        {
            _lease?.Touch();
            return;
        }

        await OwnedStart(PortsFor(DefaultPort), options, waitForPorts: false).WaitAsync(cancellationToken);
    }

    /// <summary>Starts the container and waits until the ports (or the required ports) accept connections (from inside the object).</summary>
    /// <exception cref="ContainerStartException">The container could not be made ready.</exception>
    public async Task StartAndWaitForPortsAsync(IReadOnlyList<int>? ports = null, ContainerStartOptions? options = null, CancellationToken cancellationToken = default)
    {
        var wanted = ports is { Count: > 0 } ? ports : PortsFor(DefaultPort);
        if (IsReadyFor(wanted) is not null && _start is not { IsCompleted: false })
        {
            // An explicit start of a running container counts as activity (the seed's pre-warm cron relies on it).
            _lease?.Touch();
            return;
        }

        if (_inStartHook)
        {
            await ReadyFromStartHookAsync(wanted);
            return;
        }

        await OwnedStart(wanted, options, waitForPorts: true).WaitAsync(cancellationToken);
    }

    /// <summary>Sends <paramref name="signal"/>, then SIGKILL after the stop grace period, and waits for the exit (from inside the object).</summary>
    public Task StopAsync(ContainerSignal signal = ContainerSignal.SIGTERM, CancellationToken cancellationToken = default) =>
        StopCoreAsync(signal, StopReason.Requested, cancellationToken);

    /// <inheritdoc />
    public async Task DestroyAsync(CancellationToken cancellationToken = default)
    {
        CutReadyWait();
        await SettleStartAsync();
        if (_currentContainerId is not { } id)
        {
            return;
        }

        CloseLease();
        _pendingStopReason = StopReason.Requested;
        SetStatus(ContainerObjectState.Stopping, id, null, "destroy");
        await _runtime.RemoveAsync(id, cancellationToken);
        await HandleExitAsync(id, new ContainerExit(137, false), StopReason.Requested);
    }

    /// <inheritdoc />
    public Task SignalAsync(ContainerSignal signal, CancellationToken cancellationToken = default) =>
        _currentContainerId is { } id
            ? _runtime.SignalAsync(id, signal, cancellationToken)
            : throw new InvalidOperationException($"Container object {Context.Id} has no running container to signal.");

    /// <inheritdoc />
    public Task<ContainerStopInfo?> MonitorAsync(CancellationToken cancellationToken = default) =>
        _currentContainerId is null
            ? Task.FromResult(_lastStop)
            : _stopped.Task.WaitAsync(cancellationToken).ContinueWith(static t => (ContainerStopInfo?)t.Result, TaskScheduler.Default);

    /// <inheritdoc />
    public Task<ContainerObjectStatus> GetStateAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(_status with { EgressBytesOut = EgressBytesOut, EgressBytesIn = EgressBytesIn });

    /// <inheritdoc />
    public override Task<FetchResponse> FetchAsync(FetchRequest request, CancellationToken cancellationToken = default) =>
        ContainerFetchAsync(request, null, cancellationToken);

    /// <inheritdoc />
    public async Task<FetchResponse> ContainerFetchAsync(FetchRequest request, int? port = null, CancellationToken cancellationToken = default)
    {
        var target = port ?? DefaultPort;
        var endpoint = _inStartHook
            ? await ReadyFromStartHookAsync(PortsFor(target))
            : IsReadyFor(PortsFor(target)) ?? (await OwnedStart(PortsFor(target), null, waitForPorts: true).WaitAsync(cancellationToken))!;
        var lease = _lease;
        lease?.Hold();
        try
        {
            return await ServiceProvider.GetRequiredService<ContainerHttpClient>().SendAsync(endpoint.GetDestinationPrefix(target), request, cancellationToken);
        }
        finally
        {
            lease?.Exit();
        }
    }

    async Task IContainerLifecycle.OnContainerExitedAsync(string containerId, int exitCode, bool oomKilled, CancellationToken cancellationToken)
    {
        if (containerId == _currentContainerId)
        {
            await HandleExitAsync(containerId, new ContainerExit(exitCode, oomKilled), _pendingStopReason ?? StopReason.Exited);
        }
    }

    async Task IContainerLifecycle.AdoptAsync(string containerId, CancellationToken cancellationToken)
    {
        // Activation already resumed the container this object owns; anything else carrying its labels is an orphan.
        if (containerId != _currentContainerId)
        {
            Log.OrphanRemoved(_logger, containerId, ClassName, ObjectName);
            await _runtime.RemoveAsync(containerId, cancellationToken);
        }
    }

    Task IContainerLifecycle.RenewRemoteActivityAsync(string node, int inFlight, CancellationToken cancellationToken)
    {
        if (inFlight > 0)
        {
            HoldForRemote(node);
        }
        else
        {
            _remoteHolds?.Remove(node);
        }

        _lease?.Touch();
        return Task.CompletedTask;
    }

    /// <summary>Keeps the container awake for requests another node forwards to it, until that node reports again (see <see cref="RemoteActivityTracker"/>).</summary>
    private void HoldForRemote(string node)
    {
        if (node != _options.NodeId)
        {
            (_remoteHolds ??= new(StringComparer.Ordinal))[node] = _time.GetTimestamp() + (long)(_options.RemoteActivityInterval.TotalSeconds * 3 * _time.TimestampFrequency);
        }
    }

    /// <summary>Whether another node still holds the container (its holds that lapsed are dropped).</summary>
    private bool HeldByRemote()
    {
        if (_remoteHolds is not { Count: > 0 } holds)
        {
            return false;
        }

        var now = _time.GetTimestamp();
        foreach (var (node, until) in holds)
        {
            if (until <= now)
            {
                holds.Remove(node);
            }
        }

        return holds.Count > 0;
    }

    async Task<bool> IContainerLifecycle.CheckAliveAsync(string containerId, CancellationToken cancellationToken)
    {
        if (containerId != _currentContainerId)
        {
            if (_exitHandling is { } handling && handling.Id == containerId)
            {
                await handling.Task;
            }

            return false;
        }

        if (_monitor is { Exited.IsCompletedSuccessfully: true } exited)
        {
            await HandleExitAsync(containerId, exited.Exited.Result, _pendingStopReason ?? StopReason.Exited);
            return false;
        }

        var status = await _runtime.InspectAsync(containerId, cancellationToken);
        if (status is not { State: EngineContainerState.Running })
        {
            await HandleExitAsync(containerId, new ContainerExit(status?.ExitCode ?? -1, status?.OomKilled ?? false), StopReason.Exited);
            return false;
        }

        // The engine may still say Running for a few hundred milliseconds after an OOM kill: ask the port, not only the engine.
        if (_endpoint is not { } endpoint || await _probe.CanConnectAsync(endpoint.Host, endpoint.DefaultPort, _options.ConnectProbeTimeout, cancellationToken))
        {
            return true;
        }

        var exit = _monitor is { } monitor ? await WithinAsync(monitor.Exited, _options.ExitSettleTimeout, cancellationToken) : null;
        if (exit is null)
        {
            Log.RefusedWhileRunning(_logger, ClassName, ObjectName, containerId[..Math.Min(12, containerId.Length)], _options.ExitSettleTimeout);
            await HandleExitAsync(containerId, new ContainerExit(137, false), StopReason.Failed);
        }
        else
        {
            await HandleExitAsync(containerId, exit, _pendingStopReason ?? StopReason.Exited);
        }

        return false;
    }

    /// <summary>The start in flight, or a new one the object owns (bounded by its own deadlines, never by a caller's token).</summary>
    private Task<ContainerEndpoint?> OwnedStart(IReadOnlyList<int> ports, ContainerStartOptions? options, bool waitForPorts)
    {
        if (_start is { IsCompleted: false } running)
        {
            return running;
        }

        _startGeneration++;
        return _start = RunStartAsync(ports, options, waitForPorts);
    }

    private async Task<ContainerEndpoint?> RunStartAsync(IReadOnlyList<int> ports, ContainerStartOptions? options, bool waitForPorts)
    {
        using var activity = ContainerTelemetry.StartContainerStart(ClassName);
        _startedAt = _time.GetTimestamp();
        if (_stop is { IsCompleted: false } stopping)
        {
            await stopping.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Current);
        }

        await StartCoreAsync(options);
        if (!waitForPorts)
        {
            return _endpoint;
        }

        if (IsReadyFor(ports) is { } ready)
        {
            _lease?.Touch();
            return ready;
        }

        if (_currentContainerId is not { } id || _monitor is not { } monitor)
        {
            throw await ExitedAtOnceAsync();
        }

        using var readyWait = new CancellationTokenSource();
        _readyWait = readyWait;
        try
        {
            var endpoint = await WaitForReadyAsync(id, monitor, ports, readyWait.Token);
            _endpoint = endpoint;
            SetStatus(ContainerObjectState.Healthy, id, null, null);
            MarkReady();
            Log.Ready(_logger, ClassName, ObjectName, _time.GetElapsedTime(_startedAt).TotalMilliseconds);
            _lease?.OpenFor(endpoint);
            return endpoint;
        }
        catch (ContainerStartException ex) when (!readyWait.IsCancellationRequested)
        {
            throw await FailStartAsync(id, ex);
        }
        catch (Exception ex) when (readyWait.IsCancellationRequested && ex is OperationCanceledException or ContainerStartException)
        {
            // A stop was asked for while the container was not yet ready (a stopping host stops the containers it started):
            // the stop stops it (its grace, its hooks, recorded as requested) instead of waiting out PortReadyTimeout. Not a
            // failed start: no crash is counted; the callers still waiting learn why.
            throw new ContainerStartException(ContainerReadyError.StartFailed, $"Container {ClassName} {Context.Id} was stopped before it was ready.");
        }
        finally
        {
            if (_readyWait == readyWait)
            {
                _readyWait = null;
            }
        }
    }

    /// <summary>Ends the port wait of a start in flight, so that a requested stop need not wait for it (see <see cref="RunStartAsync"/>).</summary>
    private void CutReadyWait() => _readyWait?.Cancel();

    private async Task<ContainerReadyResult> ResultOfAsync(Task<ContainerEndpoint?> start, IReadOnlyList<int> ports, bool waitForPorts)
    {
        try
        {
            var endpoint = await start;
            if (!waitForPorts)
            {
                return ContainerReadyResult.Started;
            }

            if (endpoint is not null && ports.All(p => p == endpoint.DefaultPort || endpoint.Ports.Contains(p)))
            {
                _lease?.OpenFor(endpoint);
                return ContainerReadyResult.Ready(endpoint);
            }

            // The start that ended waited for other ports; wait for these now.
            var more = await OwnedStart(ports, null, waitForPorts: true);
            return more is null ? ContainerReadyResult.Fail(ContainerReadyError.StartFailed, $"Container {ClassName} {Context.Id} stopped while it started.") : ContainerReadyResult.Ready(more);
        }
        catch (ContainerStartException ex)
        {
            return ContainerReadyResult.Fail(ex.Error, ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return ContainerReadyResult.Fail(ContainerReadyError.StartFailed, $"Container class '{ClassName}' cannot start: {ex.Message}");
        }
    }

    private async Task<bool> CompletesWithinSliceAsync(Task work, CancellationToken cancellationToken)
    {
        if (work.IsCompleted)
        {
            return true;
        }

        using var slice = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(_options.CallSlice, _time, slice.Token);
        var first = await Task.WhenAny(work, delay);
        await slice.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
        return first == work;
    }

    private async Task<ContainerExit?> WithinAsync(Task<ContainerExit> exited, TimeSpan limit, CancellationToken cancellationToken)
    {
        if (exited.IsCompletedSuccessfully)
        {
            return exited.Result;
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(limit, _time, wait.Token);
        var first = await Task.WhenAny(exited, delay);
        await wait.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
        return first == exited && exited.IsCompletedSuccessfully ? exited.Result : null;
    }

    private async Task StartCoreAsync(ContainerStartOptions? options)
    {
        if (_currentContainerId is not null)
        {
            return;
        }

        if (!_registry.TryReserveInstance(ClassName, _class.Options.MaxInstances) && !await TryTakeWarmPoolSlotAsync())
        {
            var error = new ContainerStartException(ContainerReadyError.CapacityExceeded,
                $"Container class '{ClassName}' already runs its max_instances of {_class.Options.MaxInstances} containers on this node; " +
                "try again when one sleeps, or raise max_instances in the app's config.");
            await OnErrorAsync(error, CancellationToken.None);
            throw error;
        }

        _instanceReserved = true;
        string? id = null;
        DateTimeOffset runningSince = default;
        try
        {
            // Bounded by the user's InstanceStartTimeout alone: the caller's token does not reach here.
            using var timeout = new CancellationTokenSource(_options.InstanceStartTimeout, _time);
            var (image, version) = await ResolveImageAsync(timeout.Token);
            var policy = EgressPolicyFor(options);
            var network = await EnsureEgressNetworkAsync(policy, timeout.Token);
            var spec = ContainerSpecFactory.Create(_options, _class.Options, new ContainerSpecInput(
                ClassName, Context.Id.ToString(), image, network.Name, DefaultPort, PortsFor(DefaultPort), InstanceType, EnvVars, Entrypoint, options, Runtime, Init, Context.Name, network.Proxy,
                OutboundExtraHosts(network), version));
            _runningVersion = version;

            Log.Starting(_logger, ClassName, ObjectName, image);
            _runningInstanceType = spec.InstanceType;
            // The warm pool's hook: a prewarmed container of this spec is unpaused instead of created and started.
            var claimed = await TryClaimPrewarmedAsync(spec, timeout.Token);
            var beforeCreate = _time.GetUtcNow();
            id = claimed ?? await CreateReplacingLeftoverAsync(spec, timeout.Token);
            if (claimed is null)
            {
                await _runtime.StartAsync(id, timeout.Token);
            }

            // Running from when the engine started (or unpaused) it: what metering bills from, the egress registration aside.
            runningSince = _time.GetUtcNow();
            if (claimed is null)
            {
                runningSince = await EngineStartedAtAsync(id, beforeCreate, runningSince, timeout.Token);
            }

            await RegisterEgressAsync(id, network, policy, null, timeout.Token);
        }
        catch (Exception ex)
        {
            var error = ToStartException(ex);
            if (id is not null)
            {
                await TryRemoveAsync(id);
            }

            ReleaseInstance();
            SetStatus(ContainerObjectState.Stopped, id, null, "start-failed");
            Log.StartFailed(_logger, ClassName, ObjectName, error.Message);
            if (id is not null && error.Error != ContainerReadyError.EngineUnavailable)
            {
                // The engine made the container and could not start it (a missing entrypoint, a bad user: an OCI runtime
                // error): the container's fault, so it counts toward a crash loop, else every request made and removed one.
                RecordFailedStart(error.Message);
            }

            await OnErrorAsync(error, CancellationToken.None);
            throw error;
        }

        _currentContainerId = id;
        _stopped = NewExitSignal();
        SetStatus(ContainerObjectState.Running, id, null, null, changedAt: runningSince);
        StartMonitor(id);
        _lease = _registry.GetOrAdd(ClassName, Context.Id.ToString());
        _lease.Touch();
        ArmActivityTimer();
        Log.Started(_logger, ClassName, ObjectName, id[..Math.Min(12, id.Length)]);
        _inStartHook = true;
        try
        {
            await OnStartAsync(CancellationToken.None);
        }
        finally
        {
            _inStartHook = false;
        }
    }

    /// <summary>Readiness asked for by <see cref="OnStartAsync"/> itself (it runs inside the start, so it cannot wait on it).</summary>
    private async Task<ContainerEndpoint> ReadyFromStartHookAsync(IReadOnlyList<int> ports)
    {
        if (IsReadyFor(ports) is { } ready)
        {
            return ready;
        }

        var id = _currentContainerId ?? throw new ContainerStartException(ContainerReadyError.ExitedDuringStart, $"Container {ClassName} {Context.Id} exited during OnStartAsync.");
        var endpoint = await WaitForReadyAsync(id, _monitor!, ports, CancellationToken.None);
        _endpoint = endpoint;
        SetStatus(ContainerObjectState.Healthy, id, null, null);
        MarkReady();
        Log.Ready(_logger, ClassName, ObjectName, _time.GetElapsedTime(_startedAt).TotalMilliseconds);
        _lease?.OpenFor(endpoint);
        return endpoint;
    }

    private void MarkReady()
    {
        _crashes.RecordReady();
        _lastStartFailure = null;
    }

    /// <summary>Counts a failed start toward a crash loop (logged once when it starts a backoff) and keeps its summary for the loop's message.</summary>
    private void RecordFailedStart(string summary)
    {
        _lastStartFailure = summary;
        if (_crashes.RecordFailedStart(_time.GetUtcNow()))
        {
            Log.CrashLoop(_logger, ClassName, ObjectName, DescribeCrashLoop(withOutput: false));
        }
    }

    private async Task<string> CreateReplacingLeftoverAsync(ContainerSpec spec, CancellationToken cancellationToken)
    {
        try
        {
            return await _runtime.CreateAsync(spec, cancellationToken);
        }
        catch (ContainerRuntimeException ex) when (ex.Error == ContainerRuntimeError.Conflict)
        {
            // A container with this object's name is left over from a crash the reconciler has not reached yet.
            await _runtime.RemoveAsync(spec.Name, cancellationToken);
            return await _runtime.CreateAsync(spec, cancellationToken);
        }
        catch (ContainerRuntimeException ex) when (ex.Error == ContainerRuntimeError.ImageNotFound
            && spec.Image.Contains("@sha256:", StringComparison.Ordinal) && ServiceProvider.GetService<IImageDistribution>() is { } registry)
        {
            // A recorded version runs by digest from the node's registry: an image the engine no longer has (a later build
            // removed its tags, another node pushed it) is pulled by that digest once, then created.
            await registry.PullImageAsync(spec.Image, cancellationToken);
            return await _runtime.CreateAsync(spec, cancellationToken);
        }
    }

    /// <summary>The container exited, and its exit was recorded, before its readiness was checked.</summary>
    private async Task<ContainerStartException> ExitedAtOnceAsync()
    {
        if (_exitHandling is { } handling)
        {
            await handling.Task;
        }

        var last = _lastStop;
        var summary = $"Container {ClassName} {Context.Id} exited with code {last?.ExitCode ?? -1}{(last?.Reason == StopReason.OutOfMemory ? " (out of memory)" : "")} before it was ready.";
        var error = new ContainerStartException(ContainerReadyError.ExitedDuringStart, summary + OutputSuffix(_status.LastOutput));
        // The output had its own line when the exit was recorded.
        Log.StartFailed(_logger, ClassName, ObjectName, summary);
        RecordFailedStart(summary);
        await OnErrorAsync(error, CancellationToken.None);
        return error;
    }

    private async Task<ContainerEndpoint> WaitForReadyAsync(string id, ContainerExitMonitor monitor, IReadOnlyList<int> ports, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + _options.PortReadyTimeout;
        var describe = $"Container {ClassName} {Context.Id}";
        var exited = monitor.Exited.ContinueWith(static t => t.Result.ExitCode, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        // The start's own inspection when it found the container running with its address (one engine call fewer per cold start).
        var status = _startInspection is { State: EngineContainerState.Running, IpAddress: not null } started && started.Id == id
            ? started
            : await _runtime.InspectAsync(id, CancellationToken.None);
        _startInspection = null;
        if (status is not { State: EngineContainerState.Running, IpAddress: not null })
        {
            // It exited at once (no address because it does not run): wait briefly for the exit the monitor reports.
            var exit = await WithinAsync(monitor.Exited, _options.ExitSettleTimeout, CancellationToken.None);
            var code = exit?.ExitCode ?? status?.ExitCode;
            if (code is not null && status?.State != EngineContainerState.Running)
            {
                throw new ContainerStartException(ContainerReadyError.ExitedDuringStart, $"{describe} exited with code {code} right after it started.");
            }

            throw new ContainerStartException(ContainerReadyError.StartFailed, status is null
                ? $"{describe}: container {id[..Math.Min(12, id.Length)]} vanished right after it started."
                : $"{describe}: container {id[..Math.Min(12, id.Length)]} has no address on Berth's network.");
        }

        var context = new ContainerWaitContext(id, status.IpAddress, DefaultPort, _probe, _time, _options.PollInterval, deadline, exited, describe);
        foreach (var strategy in GetWaitStrategies(ports))
        {
            // WaitAsync(token) as well: a strategy of the app's own may not watch the token.
            await strategy.WaitAsync(context, cancellationToken).WaitAsync(cancellationToken);
        }

        return new ContainerEndpoint(id, status.IpAddress, DefaultPort, ports) { NodeId = _options.NodeId };
    }

    /// <summary>Records a failed start (the container is removed, its output kept) and returns the error to answer, naming the exit and output.</summary>
    private async Task<ContainerStartException> FailStartAsync(string id, ContainerStartException error)
    {
        var exit = await KnownExitAsync(id) ?? new ContainerExit(137, false);
        var stop = await HandleExitAsync(id, exit, StopReason.Failed);
        var result = error;
        var summary = error.Message;
        if (error.Error == ContainerReadyError.ExitedDuringStart && stop is not null)
        {
            summary = $"Container {ClassName} {Context.Id} exited with code {stop.ExitCode}{(stop.Reason == StopReason.OutOfMemory ? " (out of memory)" : "")} before it was ready.";
            result = new ContainerStartException(ContainerReadyError.ExitedDuringStart, summary + OutputSuffix(_status.LastOutput), error);
        }
        else if (_status.LastOutput.Count > 0)
        {
            result = new ContainerStartException(error.Error, error.Message + OutputSuffix(_status.LastOutput), error);
        }

        // The one line of this failure (its exit was not logged apart; the output was, just before).
        Log.StartFailed(_logger, ClassName, ObjectName, summary);
        RecordFailedStart(summary);
        await OnErrorAsync(result, CancellationToken.None);
        return result;
    }

    /// <summary>How the container exited, from the monitor or else the engine; <see langword="null"/> while it runs.</summary>
    private async Task<ContainerExit?> KnownExitAsync(string id)
    {
        if (_monitor is { Exited.IsCompletedSuccessfully: true } monitor)
        {
            return monitor.Exited.Result;
        }

        try
        {
            var status = await _runtime.InspectAsync(id, CancellationToken.None);
            return status is { State: not EngineContainerState.Running, ExitCode: { } code } ? new ContainerExit(code, status.OomKilled) : null;
        }
        catch (ContainerRuntimeException)
        {
            return null;
        }
    }

    private async Task RunStopAsync(ContainerSignal signal)
    {
        CutReadyWait();
        await SettleStartAsync();
        await StopCoreAsync(signal, StopReason.Requested, CancellationToken.None);
    }

    /// <summary>Waits for a start in flight to end, whatever its outcome.</summary>
    private async Task SettleStartAsync()
    {
        if (_start is { IsCompleted: false } start)
        {
            await start.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Current);
        }
    }

    private async Task StopCoreAsync(ContainerSignal signal, StopReason reason, CancellationToken cancellationToken, TimeSpan? grace = null)
    {
        if (_currentContainerId is not { } id)
        {
            return;
        }

        CloseLease();
        _pendingStopReason = reason;
        SetStatus(ContainerObjectState.Stopping, id, null, reason.ToString().ToLowerInvariant());
        Log.Stopping(_logger, ClassName, ObjectName, signal.ToSignalName(), reason);
        _stopSignal = signal;
        ContainerExit exit;
        try
        {
            exit = await _runtime.StopAsync(id, new StopOptions(signal, grace ?? _options.StopGracePeriod), cancellationToken);
        }
        catch (ContainerRuntimeException ex) when (ex.Error == ContainerRuntimeError.ContainerNotFound)
        {
            exit = new ContainerExit(137, false, ex.Message);
        }

        await HandleExitAsync(id, exit, reason);
    }

    /// <summary>Records the exit of the current container once: output kept, container removed, capacity and lease released, hooks run.</summary>
    private Task<ContainerStopInfo?> HandleExitAsync(string id, ContainerExit exit, StopReason reason)
    {
        if (_exitHandling is { } handling && handling.Id == id)
        {
            return handling.Task.ContinueWith(static t => (ContainerStopInfo?)t.Result, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Current);
        }

        if (id != _currentContainerId)
        {
            return Task.FromResult<ContainerStopInfo?>(null);
        }

        var task = HandleExitCoreAsync(id, exit, reason);
        _exitHandling = (id, task);
        return task.ContinueWith(static t => (ContainerStopInfo?)t.Result, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Current);
    }

    private async Task<ContainerStopInfo> HandleExitCoreAsync(string id, ContainerExit exit, StopReason reason)
    {
        // The state changed when the exit was seen, not after the output read and the removal below (metering bills to here).
        var exitedAt = _time.GetUtcNow();
        _currentContainerId = null;
        _pendingStopReason = null;
        var stopSignal = _stopSignal;
        _stopSignal = null;
        _endpoint = null;
        var monitor = _monitor;
        _monitor = null;
        _activityTimer?.Dispose();
        _activityTimer = null;
        CloseLease();
        CloseEgress();
        ReleaseInstance();

        // An exit before the container was ready, while its start still waits: the start reports it (one "failed to start"
        // line, ExitedAtOnceAsync or FailStartAsync), so the exit's own line is Debug, as for a start that failed itself.
        var failedStart = reason == StopReason.Failed
            || (reason == StopReason.Exited && _start is { IsCompleted: false } && _status.State != ContainerObjectState.Healthy);
        if (exit.OomKilled)
        {
            reason = StopReason.OutOfMemory;
        }

        // The disk watch killed it for what it wrote: that, not the SIGKILL's exit code, is why it stopped.
        var disk = _diskWatch?.TakeVerdict(id);
        if (disk is not null)
        {
            reason = StopReason.DiskLimitExceeded;
        }

        // Output first: the container is removed next, and with it its logs.
        IReadOnlyList<string> output = [];
        if (reason is StopReason.Exited or StopReason.OutOfMemory or StopReason.Failed or StopReason.DiskLimitExceeded && (exit.ExitCode != 0 || reason != StopReason.Exited))
        {
            output = await ReadOutputTailAsync(id);
            if (output.Count > 0)
            {
                // Escaped: a container's bytes must not move the cursor or retitle the terminal of whoever reads the host's log.
                Log.ContainerOutput(_logger, ClassName, ObjectName, TerminalText.Escape(string.Join(Environment.NewLine, output)));
            }
        }

        monitor?.Dispose();
        exitedAt = await EngineFinishedAtAsync(id, exitedAt);
        await TryRemoveAsync(id);
        // Every exit nobody asked for counts, code 0 included (as Kubernetes' CrashLoopBackOff counts them): a container
        // that exits on its own right after each answer would otherwise make the shared engine start one per request,
        // unbounded. An app that exits 0 on its own idle timeout reaches the threshold only if it exits more often than
        // every CrashLoopWindow / CrashLoopThreshold (20 s by default).
        var loop = reason is StopReason.Exited or StopReason.OutOfMemory or StopReason.Failed or StopReason.DiskLimitExceeded
            && _crashes.RecordCrash(_time.GetUtcNow());

        var stop = new ContainerStopInfo(exit.ExitCode, reason, id);
        _lastStop = stop;
        SetStatus(exit.ExitCode == 0 ? ContainerObjectState.Stopped : ContainerObjectState.StoppedWithCode, id, exit.ExitCode, disk?.Reason ?? reason.ToString().ToLowerInvariant(), output, exitedAt);
        LogExit(id, exit, reason, stopSignal, failedStart);
        if (loop)
        {
            Log.CrashLoop(_logger, ClassName, ObjectName, DescribeCrashLoop(withOutput: false));
        }

        _stopped.TrySetResult(stop);
        DelayDeactivation(TimeSpan.FromMilliseconds(-1));
        await OnStopAsync(stop, CancellationToken.None);
        return stop;
    }

    /// <summary>The one line of an exit: out of memory, killed after the grace (with why that usually happens), crashed or stopped.</summary>
    private void LogExit(string id, ContainerExit exit, StopReason reason, ContainerSignal? stopSignal, bool failedStart)
    {
        var shortId = id[..Math.Min(12, id.Length)];
        if (failedStart)
        {
            // The failure's own line (failed to start, or refused while running) says it, out of memory included.
            Log.FailedStartRemoved(_logger, ClassName, ObjectName, shortId, reason, exit.ExitCode);
        }
        else if (reason == StopReason.OutOfMemory)
        {
            var instanceType = _runningInstanceType ?? _class.Options.InstanceType ?? InstanceType;
            Log.OutOfMemory(_logger, ClassName, ObjectName, exit.ExitCode, instanceType.MemoryBytes / (1024 * 1024), instanceType);
        }
        else if (reason is StopReason.Sleep or StopReason.Requested or StopReason.Replaced && stopSignal is { } signal && signal != ContainerSignal.SIGKILL && exit.ExitCode == 137)
        {
            // 137 = 128 + SIGKILL: the stop signal did not end it, the kill after the grace did.
            Log.KilledAfterGrace(_logger, ClassName, ObjectName, reason, reason == StopReason.Replaced ? _class.Options.RolloutStopGracePeriod : _options.StopGracePeriod, signal.ToSignalName(), exit.ExitCode);
        }
        else if (reason is StopReason.Exited or StopReason.Failed && exit.ExitCode != 0)
        {
            Log.Crashed(_logger, ClassName, ObjectName, reason, exit.ExitCode, shortId);
        }
        else
        {
            Log.Stopped(_logger, ClassName, ObjectName, reason, exit.ExitCode, shortId);
        }
    }

    private async Task ResumeAsync(string containerId, CancellationToken cancellationToken)
    {
        ContainerInspection? status;
        try
        {
            status = await _runtime.InspectAsync(containerId, cancellationToken);
        }
        catch (ContainerRuntimeException ex) when (ex.Error == ContainerRuntimeError.EngineUnavailable)
        {
            // Decide on the next request, when the engine may be back.
            _currentContainerId = null;
            SetStatus(ContainerObjectState.Stopped, containerId, null, "engine-unavailable");
            return;
        }

        if (status is not null && BerthNames.Label(status.Labels, BerthLabels.Node) is { Length: > 0 } startedBy && startedBy != _options.NodeId)
        {
            // The object moved here from another node (which died or let it go): its exit monitor and egress path were there,
            // so it is not adopted; its node's reconciler, or a survivor on the same engine, removes it. Moving is no crash.
            _currentContainerId = null;
            Log.LeftOnPreviousNode(_logger, ClassName, ObjectName, startedBy, containerId[..Math.Min(12, containerId.Length)]);
            SetStatus(ContainerObjectState.Stopped, containerId, null, "moved");
            return;
        }

        _currentContainerId = containerId;
        if (status is not { State: EngineContainerState.Running })
        {
            await HandleExitAsync(containerId, new ContainerExit(status?.ExitCode ?? -1, status?.OomKilled ?? false), StopReason.Exited);
            return;
        }

        _registry.TryReserveInstance(ClassName, int.MaxValue);
        _instanceReserved = true;
        _runningVersion = VersionOf(status.Labels);
        _stopped = NewExitSignal();
        StartMonitor(containerId);
        _lease = _registry.GetOrAdd(ClassName, Context.Id.ToString());
        ArmActivityTimer();
        await AdoptEgressAsync(containerId, status, cancellationToken);
        Log.Adopted(_logger, ClassName, ObjectName, containerId[..Math.Min(12, containerId.Length)]);

        // Readiness is checked by work the object owns; the first request waits on it. A failure removed the container.
        _ = OwnedStart(PortsFor(DefaultPort), null, waitForPorts: true)
            .ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    private void StopMonitor()
    {
        _monitor?.Dispose();
        _monitor = null;
    }

    private void StartMonitor(string id)
    {
        StopMonitor();
        var self = this.AsReference<IContainerLifecycle>();
        DelayDeactivation(TimeSpan.FromDays(3650));

        // Off the grain's scheduler: waiting for the exit must not hold the object's turn.
        _monitor = ContainerExitMonitor.Start(_runtime, id, _time, _options.MonitorRetryInitialDelay, _options.MonitorRetryMaxDelay, _logger,
            exit => self.OnContainerExitedAsync(id, exit.ExitCode, exit.OomKilled));
        _diskWatch?.Watch(id, (_runningInstanceType ?? _class.Options.InstanceType ?? InstanceType).DiskBytes, ClassName, ObjectName);
    }

    private void ArmActivityTimer()
    {
        _activityTimer?.Dispose();
        var period = TimeSpan.FromMilliseconds(Math.Clamp(EffectiveSleepAfter.TotalMilliseconds / 8, 25, 1_000));
        _activityTimer = this.RegisterGrainTimer(CheckActivityAsync, new GrainTimerCreationOptions(period, period) { Interleave = false });
    }

    private async Task CheckActivityAsync(CancellationToken cancellationToken)
    {
        if (_status.State is not (ContainerObjectState.Healthy or ContainerObjectState.Running) || _start is { IsCompleted: false } || _lease is not { } lease ||
            lease.IdleFor < EffectiveSleepAfter || HeldByRemote() || !lease.TryDrain())
        {
            return;
        }

        Log.ActivityExpired(_logger, ClassName, ObjectName, EffectiveSleepAfter);
        await OnActivityExpiredAsync(cancellationToken);
        if (_status.State == ContainerObjectState.Healthy && _endpoint is { } endpoint)
        {
            // The hook chose to keep the container: a fresh deadline starts now.
            lease.OpenFor(endpoint);
        }
    }

    private ContainerEndpoint? IsReadyFor(IReadOnlyList<int> ports) =>
        _status.State == ContainerObjectState.Healthy && _endpoint is { } ready && ports.All(p => p == ready.DefaultPort || ready.Ports.Contains(p)) ? ready : null;

    private void CloseLease()
    {
        if (_lease is { } lease)
        {
            lease.Close();
            _registry.Remove(ClassName, Context.Id.ToString(), lease);
            _lease = null;
        }
    }

    private void ReleaseInstance()
    {
        if (_instanceReserved)
        {
            _instanceReserved = false;
            _registry.ReleaseInstance(ClassName);
        }
    }

    private void SetStatus(ContainerObjectState state, string? containerId, int? exitCode, string? reason, IReadOnlyList<string>? output = null, DateTimeOffset? changedAt = null)
    {
        var previous = _status;
        _status = new ContainerObjectStatus(state, containerId, exitCode, reason, changedAt ?? _time.GetUtcNow()) { LastOutput = output ?? _status.LastOutput };
        Context.Storage.Put(StatusKey, _status);
        NotifyObservers(previous.State, state == ContainerObjectState.Healthy && previous.State != ContainerObjectState.Healthy ? _time.GetElapsedTime(_startedAt) : null);
    }

    private void NotifyObservers(ContainerObjectState previous, TimeSpan? startDuration)
    {
        if (_observers.Length == 0)
        {
            return;
        }

        var change = new ContainerStateChange(
            _options.AppName, _options.NodeId, ClassName, Context.Id.ToString(), Context.Name, _status.ContainerId, previous, _status.State,
            _status.Reason, _runningInstanceType, _runningVersion, _status.ChangedAt, startDuration, EgressBytesOut);
        foreach (var observer in _observers)
        {
            try
            {
                observer.OnStateChanged(change);
            }
            catch (Exception ex)
            {
                Log.ObserverFailed(_logger, ClassName, ObjectName, observer.GetType().Name, ex);
            }
        }
    }

    /// <summary>
    /// When the engine says the container started (its own record): the start call returns after it, late by as much as the host
    /// is loaded (up to ~800 ms seen on 2 busy cores), and metering bills from this moment. <paramref name="returned"/> when the
    /// engine has no such time or it lies outside [<paramref name="beforeCreate"/>, <paramref name="returned"/>]. The inspection is
    /// kept for the readiness wait, which needs the address.
    /// </summary>
    private async Task<DateTimeOffset> EngineStartedAtAsync(string id, DateTimeOffset beforeCreate, DateTimeOffset returned, CancellationToken cancellationToken)
    {
        try
        {
            _startInspection = await _runtime.InspectAsync(id, cancellationToken);
            return _startInspection?.StartedAt is { } started && started >= beforeCreate && started <= returned ? started : returned;
        }
        catch (ContainerRuntimeException)
        {
            return returned;
        }
    }

    /// <summary>
    /// When the engine says the container's process ended (its own record, before its clean-up, which the exit wait includes:
    /// about 100 ms on Docker 20.10); <paramref name="seen"/> when the engine has no such time or it lies outside this run.
    /// </summary>
    private async Task<DateTimeOffset> EngineFinishedAtAsync(string id, DateTimeOffset seen)
    {
        try
        {
            var inspection = await _runtime.InspectAsync(id, CancellationToken.None);
            return inspection?.FinishedAt is { } finished && finished <= seen && finished >= _status.ChangedAt ? finished : seen;
        }
        catch (ContainerRuntimeException)
        {
            return seen;
        }
    }

    private async Task TryRemoveAsync(string id)
    {
        try
        {
            await _runtime.RemoveAsync(id, CancellationToken.None);
        }
        catch (ContainerRuntimeException ex)
        {
            Log.RemoveFailed(_logger, id[..Math.Min(12, id.Length)], ex.Message);
        }
    }

    /// <summary>The last lines of the container's output, bounded by <see cref="ContainerOptions.ExitOutputLines"/> and <see cref="ContainerOptions.ExitOutputBytes"/>.</summary>
    private async Task<IReadOnlyList<string>> ReadOutputTailAsync(string id)
    {
        if (_options.ExitOutputLines == 0)
        {
            return [];
        }

        try
        {
            var lines = new List<string>();
            using var timeout = new CancellationTokenSource(_options.ConnectProbeTimeout * 5, _time);
            // Without the engine's times: with them, a line over 16 KiB comes back with a time inside it at each 16 KiB piece.
            await foreach (var line in _exec.GetLogsAsync(id, new LogOptions(Tail: _options.ExitOutputLines, Timestamps: false), timeout.Token))
            {
                lines.Add(line.Text.TrimEnd());
            }

            var bytes = 0;
            var kept = new List<string>();
            for (var i = lines.Count - 1; i >= 0; i--)
            {
                var size = Encoding.UTF8.GetByteCount(lines[i]) + 1;
                if (bytes + size > _options.ExitOutputBytes)
                {
                    if (kept.Count == 0)
                    {
                        // The last line alone is over the budget: keep its end rather than nothing.
                        kept.Add(ContainerOutputText.TailWithin(lines[i], _options.ExitOutputBytes - 1));
                    }

                    break;
                }

                bytes += size;
                kept.Insert(0, lines[i]);
            }

            return kept;
        }
        catch (Exception ex) when (ex is ContainerRuntimeException or OperationCanceledException)
        {
            // The output is a diagnostic; the exit is recorded either way.
            return [];
        }
    }

    private string DescribeCrashLoop(bool withOutput, TimeSpan? remaining = null)
    {
        var last = _lastStop;
        var wait = remaining ?? _crashes.BlockedUntil - _time.GetUtcNow();
        var why = _crashes.RecentCrashes >= _options.CrashLoopThreshold
            ? $"it crashed {_crashes.RecentCrashes} times within {_options.CrashLoopWindow.TotalSeconds:0.#} s"
            : $"it failed to start {_crashes.FailedStartsInARow} times in a row";
        var subject = $"Container {ClassName} {Context.Id} ";
        var lastTime = _lastStartFailure is { } failure
            ? $"; its last start failed: {(failure.StartsWith(subject, StringComparison.Ordinal) ? failure[subject.Length..] : failure).TrimEnd('.')}"
            : last is null ? "" : $"; it last exited with code {last.ExitCode}{last.Reason switch
            {
                StopReason.OutOfMemory => " (out of memory)",
                StopReason.DiskLimitExceeded => " (killed: it wrote past its disk)",
                _ => "",
            }}";
        return $"{subject}is in a crash loop: {why}{lastTime}. Berth tries again in {Math.Max(1, Math.Ceiling(wait.TotalSeconds)):0} s." +
            (withOutput ? OutputSuffix(_status.LastOutput) : "");
    }

    private static string OutputSuffix(IReadOnlyList<string> output) => ContainerOutputText.Suffix(output);

    private ContainerStartException ToStartException(Exception ex) => ex switch
    {
        ContainerStartException start => start,
        ContainerRuntimeException { Error: ContainerRuntimeError.ImageNotFound } => new(ContainerReadyError.ImageNotFound,
            $"Container class '{ClassName}' cannot start: {ex.Message}", ex),
        ContainerRuntimeException { Error: ContainerRuntimeError.EngineUnavailable } => new(ContainerReadyError.EngineUnavailable,
            $"Container class '{ClassName}' cannot start: the container engine is not reachable ({ex.Message}).", ex),
        OperationCanceledException => new(ContainerReadyError.StartFailed,
            $"Container class '{ClassName}' did not start within {_options.InstanceStartTimeout.TotalSeconds:0.#} s (InstanceStartTimeout).", ex),
        _ => new(ContainerReadyError.StartFailed, $"Container class '{ClassName}' cannot start: {ex.Message}", ex),
    };

    private static TaskCompletionSource<ContainerStopInfo> NewExitSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
