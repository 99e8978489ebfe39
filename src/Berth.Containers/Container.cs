using System.Net.Sockets;
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

    private IContainerRuntime _runtime = null!;
    private ContainerLeaseRegistry _registry = null!;
    private ContainerNetworks _networks = null!;
    private ContainerOptions _options = null!;
    private ContainerClass _class = null!;
    private ContainerHttpClient _http = null!;
    private TimeProvider _time = null!;
    private ILogger _logger = null!;

    private ContainerStatusInfo _status = new(ContainerState.Stopped, null, null, null, DateTimeOffset.MinValue);
    private string? _currentContainerId;
    private ContainerEndpoint? _endpoint;
    private ContainerLease? _lease;
    private IGrainTimer? _activityTimer;
    private CancellationTokenSource? _monitorCancellation;
    private TaskCompletionSource<ContainerStopInfo> _exit = NewExitSignal();
    private TaskCompletionSource<ContainerStopInfo> _stopped = NewExitSignal();
    private ContainerStopInfo? _lastStop;
    private StopReason? _pendingStopReason;
    private bool _instanceReserved;

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

    /// <summary>Whether the container may reach the internet.</summary>
    /// <value>Defaults to <see langword="false"/>: the container sits on a network with no route out.</value>
    protected bool EnableInternet { get; set; }

    /// <summary>HTTP path that must answer (any status below 500) before the container counts as healthy.</summary>
    protected string? PingEndpoint { get; set; }

    /// <summary>Resources of the container; the app's config overrides it.</summary>
    /// <value>Defaults to <see cref="InstanceType.Lite"/>.</value>
    protected InstanceType InstanceType { get; set; } = InstanceType.Lite;

    /// <summary>The container class name (the C# class name), as used in the app's config.</summary>
    protected string ClassName => GetType().Name;

    /// <summary>The container's current state.</summary>
    protected ContainerStatusInfo Status => _status;

    /// <summary>A logger named after the class.</summary>
    protected ILogger Logger => _logger;

    private TimeSpan EffectiveSleepAfter => _class.Options.SleepAfter ?? SleepAfter;

    /// <inheritdoc />
    protected override async Task OnObjectActivateAsync(CancellationToken cancellationToken)
    {
        var services = ServiceProvider;
        _runtime = services.GetRequiredService<IContainerRuntime>();
        _registry = services.GetRequiredService<ContainerLeaseRegistry>();
        _networks = services.GetRequiredService<ContainerNetworks>();
        _options = services.GetRequiredService<IOptions<ContainerOptions>>().Value;
        _class = services.GetRequiredService<ContainerClassRegistry>().Get(ClassName);
        _http = services.GetRequiredService<ContainerHttpClient>();
        _time = Context.TimeProvider;
        _logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(GetType());

        _status = Context.Storage.Get<ContainerStatusInfo>(StatusKey) ?? _status;
        if (_status.State is ContainerState.Running or ContainerState.Healthy or ContainerState.Stopping && _status.ContainerId is { } leftOver)
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
        CloseLease();
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
        StopCoreAsync("SIGTERM", StopReason.Sleep, cancellationToken);

    /// <summary>Renews the activity deadline, as a request would.</summary>
    protected void RenewActivityTimeout() => _lease?.Touch();

    /// <inheritdoc />
    public async Task<ContainerReadyResult> EnsureReadyAsync(int port, CancellationToken cancellationToken = default)
    {
        if (port <= 0)
        {
            port = DefaultPort;
        }

        if (_status.State == ContainerState.Healthy && _endpoint is { } ready && (port == ready.DefaultPort || ready.Ports.Contains(port)))
        {
            _lease?.OpenFor(ready);
            return ContainerReadyResult.Ready(ready);
        }

        try
        {
            return ContainerReadyResult.Ready(await StartAndWaitCoreAsync(PortsFor(port), options: null, cancellationToken));
        }
        catch (ContainerStartException ex)
        {
            return ContainerReadyResult.Fail(ex.Error, ex.Message);
        }
    }

    /// <inheritdoc />
    public Task StartAsync(ContainerStartOptions? options = null, CancellationToken cancellationToken = default) =>
        StartCoreAsync(options, cancellationToken);

    /// <inheritdoc />
    public Task StartAndWaitForPortsAsync(IReadOnlyList<int>? ports = null, ContainerStartOptions? options = null, CancellationToken cancellationToken = default) =>
        StartAndWaitCoreAsync(ports is { Count: > 0 } ? ports : PortsFor(DefaultPort), options, cancellationToken);

    /// <inheritdoc />
    public Task StopAsync(string signal = "SIGTERM", CancellationToken cancellationToken = default) =>
        StopCoreAsync(signal, StopReason.Requested, cancellationToken);

    /// <inheritdoc />
    public async Task DestroyAsync(CancellationToken cancellationToken = default)
    {
        if (_currentContainerId is not { } id)
        {
            return;
        }

        CloseLease();
        SetStatus(ContainerState.Stopping, id, null, "destroy");
        await _runtime.RemoveAsync(id, cancellationToken);
        await HandleExitAsync(id, new ContainerExit(137, false), StopReason.Requested, cancellationToken);
    }

    /// <inheritdoc />
    public Task SignalAsync(string signal, CancellationToken cancellationToken = default) =>
        _currentContainerId is { } id
            ? _runtime.SignalAsync(id, signal, cancellationToken)
            : throw new InvalidOperationException($"Container object {Context.Id} has no running container to signal.");

    /// <inheritdoc />
    public Task<ContainerStopInfo?> MonitorAsync(CancellationToken cancellationToken = default) =>
        _currentContainerId is null
            ? Task.FromResult(_lastStop)
            : _stopped.Task.WaitAsync(cancellationToken).ContinueWith(static t => (ContainerStopInfo?)t.Result, TaskScheduler.Default);

    /// <inheritdoc />
    public Task<ContainerStatusInfo> GetStateAsync(CancellationToken cancellationToken = default) => Task.FromResult(_status);

    /// <inheritdoc />
    public override Task<FetchResponse> FetchAsync(FetchRequest request, CancellationToken cancellationToken = default) =>
        ContainerFetchAsync(request, null, cancellationToken);

    /// <inheritdoc />
    public async Task<FetchResponse> ContainerFetchAsync(FetchRequest request, int? port = null, CancellationToken cancellationToken = default)
    {
        var target = port ?? DefaultPort;
        var endpoint = _status.State == ContainerState.Healthy && _endpoint is { } ready
            ? ready
            : await StartAndWaitCoreAsync(PortsFor(target), null, cancellationToken);
        var lease = _lease;
        lease?.Hold();
        try
        {
            return await _http.SendAsync(endpoint.GetDestinationPrefix(target), request, cancellationToken);
        }
        finally
        {
            lease?.Exit();
        }
    }

    async Task IContainerLifecycle.OnContainerExitedAsync(string containerId, int exitCode, bool oomKilled)
    {
        if (containerId == _currentContainerId)
        {
            await HandleExitAsync(containerId, new ContainerExit(exitCode, oomKilled), _pendingStopReason ?? StopReason.Exited, CancellationToken.None);
        }
    }

    async Task IContainerLifecycle.AdoptAsync(string containerId)
    {
        // Activation already resumed the container this object owns; anything else carrying its labels is an orphan.
        if (containerId != _currentContainerId)
        {
            Log.OrphanRemoved(_logger, containerId, ClassName, Context.Id.ToString());
            await _runtime.RemoveAsync(containerId, CancellationToken.None);
        }
    }

    async Task<bool> IContainerLifecycle.CheckAliveAsync(string containerId, CancellationToken cancellationToken)
    {
        if (containerId != _currentContainerId)
        {
            // Already replaced or recorded as stopped: that container is not the one to reach.
            return false;
        }

        var status = await _runtime.InspectAsync(containerId, CancellationToken.None);
        if (status is not { State: ContainerRunState.Running })
        {
            await HandleExitAsync(containerId, new ContainerExit(status?.ExitCode ?? -1, status?.OomKilled ?? false), StopReason.Exited, CancellationToken.None);
            return false;
        }

        return true;
    }

    private async Task<ContainerEndpoint> StartAndWaitCoreAsync(IReadOnlyList<int> ports, ContainerStartOptions? options, CancellationToken cancellationToken)
    {
        await StartCoreAsync(options, cancellationToken);
        if (_status.State == ContainerState.Healthy && _endpoint is { } ready && ports.All(p => p == ready.DefaultPort || ready.Ports.Contains(p)))
        {
            // An explicit start of a running container counts as activity (the seed's pre-warm cron relies on it).
            _lease?.Touch();
            return ready;
        }

        var id = _currentContainerId!;
        try
        {
            var endpoint = await WaitForPortsAsync(id, ports, cancellationToken);
            _endpoint = endpoint;
            SetStatus(ContainerState.Healthy, id, null, null);
            _lease?.OpenFor(endpoint);
            return endpoint;
        }
        catch (ContainerStartException ex)
        {
            await FailStartAsync(id, ex, cancellationToken);
            throw;
        }
    }

    private async Task StartCoreAsync(ContainerStartOptions? options, CancellationToken cancellationToken)
    {
        if (_currentContainerId is not null)
        {
            return;
        }

        if (!_registry.TryReserveInstance(ClassName, _class.Options.MaxInstances))
        {
            var error = new ContainerStartException(ContainerReadyError.CapacityExceeded,
                $"Container class '{ClassName}' already runs its max_instances of {_class.Options.MaxInstances} containers on this node; " +
                "try again when one sleeps, or raise max_instances in the app's config.");
            await OnErrorAsync(error, cancellationToken);
            throw error;
        }

        _instanceReserved = true;
        string? id = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.InstanceStartTimeout);
            var image = await _class.GetImageAsync(timeout.Token);
            var spec = await BuildSpecAsync(image, options, timeout.Token);

            id = await CreateReplacingLeftoverAsync(spec, timeout.Token);
            await _runtime.StartAsync(id, timeout.Token);
        }
        catch (Exception ex) when (ex is ContainerRuntimeException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var error = ToStartException(ex);
            if (id is not null)
            {
                await TryRemoveAsync(id);
            }

            ReleaseInstance();
            SetStatus(ContainerState.Stopped, id, null, "start-failed");
            Log.StartFailed(_logger, ClassName, Context.Id.ToString(), error.Message);
            await OnErrorAsync(error, cancellationToken);
            throw error;
        }

        _currentContainerId = id;
        _exit = NewExitSignal();
        _stopped = NewExitSignal();
        SetStatus(ContainerState.Running, id, null, null);
        StartMonitor(id);
        _lease = _registry.GetOrAdd(ClassName, Context.Id.ToString());
        _lease.Touch();
        ArmActivityTimer();
        Log.Started(_logger, ClassName, Context.Id.ToString(), id[..12]);
        await OnStartAsync(cancellationToken);
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
    }

    private async Task<ContainerSpec> BuildSpecAsync(string image, ContainerStartOptions? options, CancellationToken cancellationToken)
    {
        var objectId = Context.Id.ToString();
        var enableInternet = options?.EnableInternet ?? EnableInternet;
        var network = await _networks.EnsureAsync(enableInternet, cancellationToken);

        var environment = new Dictionary<string, string>(_class.Options.EnvVars, StringComparer.Ordinal);
        foreach (var (key, value) in EnvVars)
        {
            environment[key] = value;
        }

        foreach (var (key, value) in options?.EnvVars ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        environment["BERTH_OBJECT_ID"] = objectId;
        environment["BERTH_CLASS"] = ClassName;
        environment["BERTH_APP"] = _options.AppName;
        environment["BERTH_NODE"] = _options.NodeName;
        environment["BERTH_LOCATION"] = _options.Location;
        environment["BERTH_REGION"] = _options.Region;

        var labels = new Dictionary<string, string>(_options.ExtraLabels, StringComparer.Ordinal)
        {
            [BerthLabels.Managed] = "1",
            [BerthLabels.App] = _options.AppName,
            [BerthLabels.Class] = ClassName,
            [BerthLabels.ObjectId] = objectId,
            [BerthLabels.Version] = ImageVersion(image),
            [BerthLabels.Image] = image,
            [BerthLabels.Node] = _options.NodeName,
        };

        return new ContainerSpec
        {
            Name = ContainerName(_options.AppName, ClassName, objectId),
            Image = image,
            Entrypoint = options?.Entrypoint ?? Entrypoint,
            Environment = environment,
            Labels = labels,
            Ports = PortsFor(DefaultPort),
            InstanceType = _class.Options.InstanceType ?? InstanceType,
            Network = network,
            Runtime = _options.Runtime,
        };
    }

    private async Task<ContainerEndpoint> WaitForPortsAsync(string id, IReadOnlyList<int> ports, CancellationToken cancellationToken)
    {
        var status = await _runtime.InspectAsync(id, cancellationToken)
            ?? throw new ContainerStartException(ContainerReadyError.StartFailed, $"Container {id[..12]} of {ClassName} {Context.Id} vanished right after it started.");
        var host = status.IpAddress
            ?? throw new ContainerStartException(ContainerReadyError.StartFailed, $"Container {id[..12]} of {ClassName} {Context.Id} has no address on Berth's network.");

        var deadline = _time.GetUtcNow() + _options.PortReadyTimeout;
        foreach (var port in ports)
        {
            while (!await CanConnectAsync(host, port, cancellationToken))
            {
                ThrowIfExited(port);
                if (_time.GetUtcNow() >= deadline)
                {
                    throw new ContainerStartException(ContainerReadyError.PortTimeout,
                        $"Container {ClassName} {Context.Id} did not accept connections on port {port} within {_options.PortReadyTimeout.TotalSeconds:0.#} s " +
                        "(PortReadyTimeout). Check that the app listens on 0.0.0.0 and on this port.");
                }

                await Task.Delay(_options.PollInterval, _time, cancellationToken);
            }
        }

        if (PingEndpoint is { } ping)
        {
            var prefix = $"http://{host}:{DefaultPort}/";
            while (!await _http.PingAsync(prefix, ping, cancellationToken))
            {
                ThrowIfExited(DefaultPort);
                if (_time.GetUtcNow() >= deadline)
                {
                    throw new ContainerStartException(ContainerReadyError.PortTimeout,
                        $"Container {ClassName} {Context.Id} did not answer its ping endpoint '{ping}' within {_options.PortReadyTimeout.TotalSeconds:0.#} s.");
                }

                await Task.Delay(_options.PollInterval, _time, cancellationToken);
            }
        }

        return new ContainerEndpoint(id, host, DefaultPort, ports);
    }

    private void ThrowIfExited(int port)
    {
        if (_exit.Task.IsCompleted)
        {
            var exit = _exit.Task.Result;
            throw new ContainerStartException(ContainerReadyError.ExitedDuringStart,
                $"Container {ClassName} {Context.Id} exited with code {exit.ExitCode}{(exit.Reason == StopReason.OutOfMemory ? " (out of memory)" : "")} before it listened on port {port}.");
        }
    }

    private static async Task<bool> CanConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await socket.ConnectAsync(host, port, attempt.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private async Task FailStartAsync(string id, ContainerStartException error, CancellationToken cancellationToken)
    {
        Log.StartFailed(_logger, ClassName, Context.Id.ToString(), error.Message);
        if (_currentContainerId == id)
        {
            _pendingStopReason = StopReason.Failed;
            await TryRemoveAsync(id);
            var exit = _exit.Task.IsCompleted ? _exit.Task.Result.ExitCode : 137;
            await HandleExitAsync(id, new ContainerExit(exit, false), StopReason.Failed, cancellationToken);
        }

        await OnErrorAsync(error, cancellationToken);
    }

    private async Task StopCoreAsync(string signal, StopReason reason, CancellationToken cancellationToken)
    {
        if (_currentContainerId is not { } id)
        {
            return;
        }

        CloseLease();
        _pendingStopReason = reason;
        SetStatus(ContainerState.Stopping, id, null, reason.ToString().ToLowerInvariant());
        Log.Stopping(_logger, ClassName, Context.Id.ToString(), signal, reason);
        ContainerExit exit;
        try
        {
            exit = await _runtime.StopAsync(id, new StopOptions(signal, _options.StopGracePeriod), cancellationToken);
        }
        catch (ContainerRuntimeException ex) when (ex.Error == ContainerRuntimeError.ContainerNotFound)
        {
            exit = new ContainerExit(137, false, ex.Message);
        }

        await HandleExitAsync(id, exit, reason, cancellationToken);
    }

    private async Task HandleExitAsync(string id, ContainerExit exit, StopReason reason, CancellationToken cancellationToken)
    {
        if (id != _currentContainerId)
        {
            return;
        }

        _currentContainerId = null;
        _pendingStopReason = null;
        _endpoint = null;
        StopMonitor();
        _activityTimer?.Dispose();
        _activityTimer = null;
        CloseLease();
        ReleaseInstance();

        if (exit.OomKilled)
        {
            reason = StopReason.OutOfMemory;
        }

        if (reason is StopReason.Exited or StopReason.OutOfMemory && exit.ExitCode != 0)
        {
            await LogTailAsync(id);
        }

        await TryRemoveAsync(id);
        var stop = new ContainerStopInfo(exit.ExitCode, reason, id);
        _lastStop = stop;
        SetStatus(exit.ExitCode == 0 ? ContainerState.Stopped : ContainerState.StoppedWithCode, id, exit.ExitCode, reason.ToString().ToLowerInvariant());
        Log.Stopped(_logger, ClassName, Context.Id.ToString(), id[..12], exit.ExitCode, reason);
        _exit.TrySetResult(stop);
        _stopped.TrySetResult(stop);
        DelayDeactivation(TimeSpan.FromMilliseconds(-1));
        await OnStopAsync(stop, cancellationToken);
    }

    private async Task ResumeAsync(string containerId, CancellationToken cancellationToken)
    {
        ContainerStatus? status;
        try
        {
            status = await _runtime.InspectAsync(containerId, cancellationToken);
        }
        catch (ContainerRuntimeException ex) when (ex.Error == ContainerRuntimeError.EngineUnavailable)
        {
            // Decide on the next request, when the engine may be back.
            _currentContainerId = null;
            SetStatus(ContainerState.Stopped, containerId, null, "engine-unavailable");
            return;
        }

        _currentContainerId = containerId;
        if (status is not { State: ContainerRunState.Running })
        {
            await HandleExitAsync(containerId, new ContainerExit(status?.ExitCode ?? -1, status?.OomKilled ?? false), StopReason.Exited, cancellationToken);
            return;
        }

        _registry.TryReserveInstance(ClassName, int.MaxValue);
        _instanceReserved = true;
        _exit = NewExitSignal();
        _stopped = NewExitSignal();
        StartMonitor(containerId);
        _lease = _registry.GetOrAdd(ClassName, Context.Id.ToString());
        ArmActivityTimer();
        Log.Adopted(_logger, ClassName, Context.Id.ToString(), containerId[..12]);
        try
        {
            await StartAndWaitCoreAsync(PortsFor(DefaultPort), null, cancellationToken);
        }
        catch (ContainerStartException)
        {
            // FailStartAsync removed it; the next request starts a fresh one.
        }
    }

    private void StopMonitor()
    {
        _monitorCancellation?.Cancel();
        _monitorCancellation?.Dispose();
        _monitorCancellation = null;
    }

    private void StartMonitor(string id)
    {
        StopMonitor();
        var cancellation = _monitorCancellation = new CancellationTokenSource();
        var token = cancellation.Token;
        var self = this.AsReference<IContainerLifecycle>();
        var runtime = _runtime;
        var exitSignal = _exit;
        var logger = _logger;
        var delay = _options.PollInterval;
        DelayDeactivation(TimeSpan.FromDays(3650));

        // Off the grain's scheduler: waiting for the exit must not hold the object's turn.
        _ = Task.Run(async () =>
        {
            var backoff = TimeSpan.FromMilliseconds(200);
            while (!token.IsCancellationRequested)
            {
                try
                {
                    var exit = await runtime.WaitForExitAsync(id, token);
                    exitSignal.TrySetResult(new ContainerStopInfo(exit.ExitCode, exit.OomKilled ? StopReason.OutOfMemory : StopReason.Exited, id));
                    await self.OnContainerExitedAsync(id, exit.ExitCode, exit.OomKilled);
                    return;
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (ContainerRuntimeException ex) when (ex.Error == ContainerRuntimeError.ContainerNotFound)
                {
                    exitSignal.TrySetResult(new ContainerStopInfo(-1, StopReason.Failed, id));
                    await self.OnContainerExitedAsync(id, -1, false);
                    return;
                }
                catch (Exception ex)
                {
                    Log.MonitorFailed(logger, id[..12], ex.Message);
                    await Task.Delay(backoff + delay, CancellationToken.None);
                    backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5_000));
                }
            }
        });
    }

    private void ArmActivityTimer()
    {
        _activityTimer?.Dispose();
        var period = TimeSpan.FromMilliseconds(Math.Clamp(EffectiveSleepAfter.TotalMilliseconds / 8, 25, 1_000));
        _activityTimer = this.RegisterGrainTimer(CheckActivityAsync, new GrainTimerCreationOptions(period, period) { Interleave = false });
    }

    private async Task CheckActivityAsync(CancellationToken cancellationToken)
    {
        if (_status.State is not (ContainerState.Healthy or ContainerState.Running) || _lease is not { } lease ||
            lease.IdleFor < EffectiveSleepAfter || !lease.TryDrain())
        {
            return;
        }

        Log.ActivityExpired(_logger, ClassName, Context.Id.ToString(), EffectiveSleepAfter);
        await OnActivityExpiredAsync(cancellationToken);
        if (_status.State == ContainerState.Healthy && _endpoint is { } endpoint)
        {
            // The hook chose to keep the container: a fresh deadline starts now.
            lease.OpenFor(endpoint);
        }
    }

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

    private void SetStatus(ContainerState state, string? containerId, int? exitCode, string? reason)
    {
        _status = new ContainerStatusInfo(state, containerId, exitCode, reason, _time.GetUtcNow());
        Context.Storage.Put(StatusKey, _status);
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

    private async Task LogTailAsync(string id)
    {
        try
        {
            var lines = new List<string>();
            await foreach (var line in _runtime.GetLogsAsync(id, new LogOptions(Tail: 20)))
            {
                lines.Add(line.Text.TrimEnd());
            }

            Log.ContainerOutput(_logger, ClassName, Context.Id.ToString(), string.Join(Environment.NewLine, lines));
        }
        catch (ContainerRuntimeException)
        {
            // The output is a diagnostic nicety; the exit is recorded either way.
        }
    }

    private IReadOnlyList<int> PortsFor(int port)
    {
        if (port == DefaultPort && RequiredPorts.Count == 0)
        {
            return [port];
        }

        return RequiredPorts.Append(DefaultPort).Append(port).Distinct().ToArray();
    }

    private ContainerStartException ToStartException(Exception ex) => ex switch
    {
        ContainerRuntimeException { Error: ContainerRuntimeError.ImageNotFound } => new(ContainerReadyError.ImageNotFound,
            $"Container class '{ClassName}' cannot start: {ex.Message}", ex),
        ContainerRuntimeException { Error: ContainerRuntimeError.EngineUnavailable } => new(ContainerReadyError.EngineUnavailable,
            $"Container class '{ClassName}' cannot start: the container engine is not reachable ({ex.Message}).", ex),
        OperationCanceledException => new(ContainerReadyError.StartFailed,
            $"Container class '{ClassName}' did not start within {_options.InstanceStartTimeout.TotalSeconds:0.#} s (InstanceStartTimeout).", ex),
        _ => new(ContainerReadyError.StartFailed, $"Container class '{ClassName}' cannot start: {ex.Message}", ex),
    };

    /// <summary>The version an image reference names: its tag (a content hash for images Berth built), or the reference itself.</summary>
    private static string ImageVersion(string image)
    {
        var colon = image.LastIndexOf(':');
        return colon > image.LastIndexOf('/') ? image[(colon + 1)..] : image;
    }

    internal static string ContainerName(string app, string className, string objectId) =>
        $"berth-{app}-{className}-{objectId}".ToLowerInvariant();

    private static TaskCompletionSource<ContainerStopInfo> NewExitSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
