using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Berth.Objects;
using Berth.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;

namespace Berth.Containers;

/// <summary>
/// The node's warm pools: per container class with <see cref="ContainerClassOptions.PrewarmedInstances"/> above 0, that
/// many containers created, started, ready (ports open) and then paused (the engine's cgroup freezer) ahead of demand.
/// A new object's first start claims one: the claim is recorded durably, the object's identity is written to the
/// container's <see cref="IdentityMountPath"/>, and the container is unpaused; no <c>create</c> or <c>start</c> runs on the
/// request path. The pool refills in the background (at most <see cref="WarmPoolOptions.RefillConcurrency"/> at once),
/// never past <see cref="ContainerClassOptions.MaxInstances"/> counting the class's running and prewarmed containers.
/// </summary>
/// <remarks>
/// A pool learns what to prewarm from the first start of its class on this node (its container spec without the
/// object's identity); a start whose spec differs (a new image version, other start options) does not claim, and a new
/// image drains the pool and refills it with the new one. A prewarmed container that exits (crash, OOM, removed) is
/// replaced.
/// </remarks>
public sealed class WarmPool : IAsyncDisposable, ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>Where a prewarmed container finds its object's identity once claimed (a read-only mount).</summary>
    public const string IdentityMountPath = "/run/berth";

    /// <summary>The file holding the claiming object's ID (one line); absent until the claim.</summary>
    public const string ObjectIdFile = IdentityMountPath + "/object-id";

    private const string ObjectIdVariable = "BERTH_OBJECT_ID";

    private readonly IContainerOperations _runtime;
    private readonly IContainerProbe _probe;
    private readonly ContainerLeaseRegistry _registry;
    private readonly ContainerOptions _options;
    private readonly WarmPoolOptions _settings;
    private readonly TimeProvider _time;
    private readonly ILogger<WarmPool> _logger;
    private readonly SemaphoreSlim _gate;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, ClassPool> _classes = new(StringComparer.Ordinal);
    private readonly List<Task> _work = [];

    internal WarmPool(IContainerOperations runtime, IContainerProbe probe, ContainerLeaseRegistry registry, IOptions<ContainerOptions> options,
        IOptions<WarmPoolOptions> settings, IOptions<DurableObjectOptions> objects, TimeProvider time, ILogger<WarmPool> logger)
        : this(runtime, probe, registry, options.Value, settings.Value, new WarmPoolClaims(objects.Value.DataDirectory), time, logger)
    {
    }

    internal WarmPool(IContainerOperations runtime, IContainerProbe probe, ContainerLeaseRegistry registry, ContainerOptions options,
        WarmPoolOptions settings, WarmPoolClaims claims, TimeProvider time, ILogger<WarmPool> logger)
    {
        _runtime = runtime;
        _probe = probe;
        _registry = registry;
        _options = options;
        _settings = settings;
        Claims = claims;
        _time = time;
        _logger = logger;
        _gate = new SemaphoreSlim(settings.RefillConcurrency, settings.RefillConcurrency);
    }

    internal WarmPoolClaims Claims { get; }

    /// <summary>Prewarmed containers of <paramref name="className"/> ready to be claimed now.</summary>
    public int ReadyCount(string className)
    {
        var pool = Find(className);
        if (pool is null)
        {
            return 0;
        }

        lock (pool)
        {
            return pool.Ready.Count;
        }
    }

    /// <summary>The engine IDs of the prewarmed containers of <paramref name="className"/> ready to be claimed now.</summary>
    public IReadOnlyList<string> ReadyIds(string className)
    {
        var pool = Find(className);
        if (pool is null)
        {
            return [];
        }

        lock (pool)
        {
            return pool.Ready.Select(p => p.Id).ToArray();
        }
    }

    /// <summary>Waits until the pool of <paramref name="className"/> holds <paramref name="count"/> ready containers (tests and benchmarks).</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public async Task WaitForReadyAsync(string className, int count, CancellationToken cancellationToken)
    {
        while (ReadyCount(className) < count)
        {
            await Task.Delay(_options.PollInterval * 5, _time, cancellationToken);
        }
    }

    /// <summary>
    /// Tries to claim a prewarmed container for an object whose container would be <paramref name="objectSpec"/>. On
    /// success the claim is recorded, the identity written, the container unpaused, and its instance reservation is
    /// released (the object holds its own). On a miss the pool learns <paramref name="objectSpec"/> as its template.
    /// </summary>
    /// <returns>The claimed container's engine ID, or <see langword="null"/> when none matches (the caller starts its own).</returns>
    internal async Task<string?> TryClaimAsync(ContainerClassOptions containerClass, ContainerSpec objectSpec, string objectId, string? objectName,
        CancellationToken cancellationToken)
    {
        if (containerClass.PrewarmedInstances <= 0)
        {
            return null;
        }

        var pool = GetOrAdd(containerClass);
        var fingerprint = Fingerprint(objectSpec);
        while (true)
        {
            Pooled? pooled;
            lock (pool)
            {
                var index = pool.Ready.FindIndex(p => p.Fingerprint == fingerprint);
                pooled = index < 0 ? null : pool.Ready[index];
                if (pooled is not null)
                {
                    pool.Ready.RemoveAt(index);
                }
            }

            if (pooled is null)
            {
                Learn(pool, containerClass, objectSpec, fingerprint);
                return null;
            }

            pooled.Monitor?.Dispose();
            try
            {
                // Durable first: after a crash from here on, the reconciler hands the container to this object, never to another.
                // The claim is on disk before the container serves (both awaited); the unpause need not wait for the disk.
                var record = Claims.RecordAsync(pooled.Id, containerClass.ClassName, objectId, cancellationToken);
                await Claims.WriteIdentityAsync(pooled.IdentityDirectory, objectId, objectName, containerClass.ClassName, cancellationToken);
                await Task.WhenAll(record, _runtime.UnpauseAsync(pooled.Id, cancellationToken));
            }
            catch (Exception ex) when (ex is ContainerRuntimeException or IOException)
            {
                Log.ClaimFailed(_logger, containerClass.ClassName, Short(pooled.Id), ex.Message);
                Claims.Remove(pooled.Id);
                await DiscardAsync(pooled, CancellationToken.None);
                continue;
            }

            _registry.ReleaseInstance(containerClass.ClassName);
            Log.Claimed(_logger, containerClass.ClassName, objectName ?? objectId, Short(pooled.Id));
            Kick(pool);
            return pooled.Id;
        }
    }

    /// <summary>
    /// Frees one instance slot of <paramref name="className"/> held by a ready prewarmed container, for a start that found
    /// the class at its <c>max_instances</c>: that container is removed and its reservation passes to the caller.
    /// </summary>
    /// <returns>Whether a slot was handed over (the caller then holds one reservation).</returns>
    internal async Task<bool> TryTakeSlotAsync(string className, CancellationToken cancellationToken)
    {
        var pool = Find(className);
        if (pool is null)
        {
            return false;
        }

        Pooled? pooled;
        lock (pool)
        {
            if (pool.Ready.Count == 0)
            {
                return false;
            }

            pooled = pool.Ready[0];
            pool.Ready.RemoveAt(0);
        }

        pooled.Monitor?.Dispose();
        Log.Evicted(_logger, className, Short(pooled.Id));
        await RemoveQuietlyAsync(pooled, cancellationToken);
        return true;
    }

    /// <summary>Removes the unclaimed prewarmed containers when the node stops (while the engine client still works).</summary>
    /// <param name="lifecycle">The silo's lifecycle.</param>
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(WarmPool), ServiceLifecycleStage.Active, _ => Task.CompletedTask, _ => DisposeAsync().AsTask());

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        List<Pooled> left = [];
        Task[] work;
        lock (_classes)
        {
            foreach (var pool in _classes.Values)
            {
                lock (pool)
                {
                    pool.RetryTimer?.Dispose();
                    left.AddRange(pool.Ready);
                    pool.Ready.Clear();
                }
            }

            work = [.. _work];
        }

        using var timeout = new CancellationTokenSource(_settings.ShutdownTimeout, _time);
        try
        {
            await Task.WhenAll(work).WaitAsync(timeout.Token);
        }
        catch (Exception)
        {
            // Creations in flight remove what they made when they see the node stopping; the next reconcile removes the rest.
        }

        await Parallel.ForEachAsync(left, timeout.Token, async (pooled, ct) =>
        {
            pooled.Monitor?.Dispose();
            await RemoveQuietlyAsync(pooled, ct);
        });
    }

    /// <summary>The spec's fingerprint without the object's identity: two objects whose containers would differ only in identity share it.</summary>
    internal static string Fingerprint(ContainerSpec spec)
    {
        var text = new StringBuilder();
        void Add(string name, object? value) => text.Append(name).Append('=').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append('\n');
        Add("image", spec.Image);
        Add("entrypoint", spec.Entrypoint is null ? "\0" : string.Join('\0', spec.Entrypoint));
        Add("command", spec.Command is null ? "\0" : string.Join('\0', spec.Command));
        foreach (var (key, value) in spec.Environment.Where(kv => kv.Key != ObjectIdVariable).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Add("env:" + key, value);
        }

        foreach (var (key, value) in spec.Labels.Where(kv => kv.Key is not (BerthLabels.ObjectId or BerthLabels.ObjectName)).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Add("label:" + key, value);
        }

        Add("ports", string.Join(',', spec.Ports));
        Add("publish", spec.PublishPorts);
        Add("instance", $"{spec.InstanceType.Vcpu}/{spec.InstanceType.MemoryBytes}/{spec.InstanceType.DiskMb}");
        Add("pids", spec.PidsLimit);
        Add("nofile", spec.OpenFilesLimit);
        Add("scratch", string.Join(',', spec.ScratchMounts));
        Add("network", spec.Network);
        Add("runtime", spec.Runtime);
        Add("workdir", spec.WorkingDirectory);
        Add("init", spec.Init);
        Add("stop", spec.StopSignal);
        Add("binds", string.Join(',', spec.BindMounts));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>The spec of a prewarmed container made from an object's spec: no object identity, the pool label, the identity mount.</summary>
    internal static ContainerSpec PooledSpec(ContainerSpec template, string name, string identityDirectory) => template with
    {
        Name = name,
        Environment = template.Environment.Where(kv => kv.Key != ObjectIdVariable).ToDictionary(StringComparer.Ordinal),
        Labels = template.Labels.Where(kv => kv.Key is not (BerthLabels.ObjectId or BerthLabels.ObjectName))
            .Append(new KeyValuePair<string, string>(BerthLabels.WarmPool, "1")).ToDictionary(StringComparer.Ordinal),
        BindMounts = [.. template.BindMounts, new BindMount(identityDirectory, IdentityMountPath, ReadOnly: true)],
    };

    private ClassPool? Find(string className)
    {
        lock (_classes)
        {
            return _classes.GetValueOrDefault(className);
        }
    }

    private ClassPool GetOrAdd(ContainerClassOptions containerClass)
    {
        lock (_classes)
        {
            if (!_classes.TryGetValue(containerClass.ClassName, out var pool))
            {
                pool = new ClassPool(containerClass);
                _classes.Add(containerClass.ClassName, pool);
            }

            return pool;
        }
    }

    private void Learn(ClassPool pool, ContainerClassOptions containerClass, ContainerSpec objectSpec, string fingerprint)
    {
        List<Pooled> drained = [];
        lock (pool)
        {
            if (pool.Fingerprint != fingerprint)
            {
                // A new version (or other settings): what the pool holds would never be claimed again.
                var image = pool.Template?.Image;
                drained.AddRange(pool.Ready);
                pool.Ready.Clear();
                pool.Fingerprint = fingerprint;
                pool.Template = objectSpec;
                pool.Failures = 0;
                pool.RetryAt = DateTimeOffset.MinValue;
                if (image is not null)
                {
                    Log.Drained(_logger, containerClass.ClassName, drained.Count, image, objectSpec.Image);
                }
            }
        }

        foreach (var pooled in drained)
        {
            pooled.Monitor?.Dispose();
            Track(DiscardAsync(pooled, _stopping.Token));
        }

        Kick(pool);
    }

    /// <summary>Starts as many creations as the pool lacks and the class's max_instances allows.</summary>
    private void Kick(ClassPool pool)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        var className = pool.Class.ClassName;
        ContainerSpec template;
        string fingerprint;
        var launched = 0;
        lock (pool)
        {
            if (pool.Template is null || pool.Fingerprint is null || _time.GetUtcNow() < pool.RetryAt)
            {
                return;
            }

            template = pool.Template;
            fingerprint = pool.Fingerprint;
            var wanted = WarmPoolPlan.ToCreate(pool.Class.PrewarmedInstances, pool.Ready.Count, pool.Creating, _registry.RunningCount(className), pool.Class.MaxInstances);
            while (launched < wanted && _registry.TryReserveInstance(className, pool.Class.MaxInstances))
            {
                launched++;
            }

            pool.Creating += launched;
        }

        for (var i = 0; i < launched; i++)
        {
            Track(Task.Run(() => CreateOneAsync(pool, template, fingerprint), CancellationToken.None));
        }
    }

    private void Track(Task task)
    {
        lock (_classes)
        {
            _work.RemoveAll(t => t.IsCompleted);
            _work.Add(task);
        }
    }

    private async Task CreateOneAsync(ClassPool pool, ContainerSpec template, string fingerprint)
    {
        var className = pool.Class.ClassName;
        var name = BerthNames.Container(_options.AppName, _options.NodeId, className, "warm-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
        var directory = Claims.IdentityDirectory(name);
        string? id = null;
        var entered = false;
        var started = _time.GetTimestamp();
        try
        {
            await _gate.WaitAsync(_stopping.Token);
            entered = true;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            timeout.CancelAfter(_options.InstanceStartTimeout + _options.PortReadyTimeout);
            Claims.CreateIdentityDirectory(name);
            id = await _runtime.CreateAsync(PooledSpec(template, name, directory), timeout.Token);
            await _runtime.StartAsync(id, timeout.Token);
            var status = await _runtime.InspectAsync(id, timeout.Token);
            if (status is not { State: EngineContainerState.Running, IpAddress: { } address })
            {
                throw new ContainerRuntimeException(ContainerRuntimeError.Conflict, $"prewarmed container {Short(id)} exited right after it started (exit code {status?.ExitCode}).");
            }

            await WaitForPortsAsync(address, template.Ports, timeout.Token);
            await _runtime.PauseAsync(id, timeout.Token);
        }
        catch (Exception ex)
        {
            var stopping = _stopping.IsCancellationRequested;
            int failures;
            lock (pool)
            {
                pool.Creating--;
                failures = stopping ? 0 : ++pool.Failures;
                if (!stopping)
                {
                    var delay = WarmPoolPlan.Backoff(failures, _settings.RetryDelay, _settings.MaxRetryDelay);
                    pool.RetryAt = _time.GetUtcNow() + delay;
                    pool.RetryTimer?.Dispose();
                    pool.RetryTimer = _time.CreateTimer(_ => Kick(pool), null, delay, Timeout.InfiniteTimeSpan);
                    Log.RefillFailed(_logger, className, ex.Message, delay.TotalSeconds);
                }
            }

            if (id is not null)
            {
                await RemoveEngineQuietlyAsync(id);
            }

            Claims.DeleteIdentityDirectory(directory);
            _registry.ReleaseInstance(className);
            return;
        }
        finally
        {
            if (entered)
            {
                _gate.Release();
            }
        }

        var pooled = new Pooled(className, id, fingerprint, directory);
        var keep = false;
        lock (pool)
        {
            pool.Creating--;
            if (pool.Fingerprint == fingerprint && !_stopping.IsCancellationRequested)
            {
                pool.Failures = 0;
                pooled.Monitor = ContainerExitMonitor.Start(_runtime, id, _time, _options.MonitorRetryInitialDelay, _options.MonitorRetryMaxDelay, _logger,
                    exit => OnPooledExitedAsync(pool, id, exit));
                pool.Ready.Add(pooled);
                keep = true;
            }
        }

        if (!keep)
        {
            await RemoveEngineQuietlyAsync(id);
            Claims.DeleteIdentityDirectory(directory);
            _registry.ReleaseInstance(className);
            Kick(pool);
            return;
        }

        Log.Prewarmed(_logger, className, Short(id), _time.GetElapsedTime(started).TotalMilliseconds);
    }

    private async Task WaitForPortsAsync(string address, IReadOnlyList<int> ports, CancellationToken cancellationToken)
    {
        foreach (var port in ports)
        {
            while (!await _probe.CanConnectAsync(address, port, _options.ConnectProbeTimeout, cancellationToken))
            {
                await Task.Delay(_options.PollInterval, _time, cancellationToken);
            }
        }
    }

    private async Task OnPooledExitedAsync(ClassPool pool, string id, ContainerExit exit)
    {
        Pooled? pooled;
        lock (pool)
        {
            var index = pool.Ready.FindIndex(p => p.Id == id);
            pooled = index < 0 ? null : pool.Ready[index];
            if (pooled is not null)
            {
                pool.Ready.RemoveAt(index);
            }
        }

        if (pooled is null)
        {
            // Claimed or discarded meanwhile: its new owner watches it.
            return;
        }

        Log.PooledExited(_logger, pool.Class.ClassName, Short(id), exit.ExitCode, exit.OomKilled);
        await DiscardAsync(pooled, _stopping.IsCancellationRequested ? CancellationToken.None : _stopping.Token);
    }

    /// <summary>Removes a prewarmed container that left the pool unclaimed, releases its slot and refills.</summary>
    private async Task DiscardAsync(Pooled pooled, CancellationToken cancellationToken)
    {
        await RemoveQuietlyAsync(pooled, cancellationToken);
        _registry.ReleaseInstance(pooled.ClassName);
        if (Find(pooled.ClassName) is { } pool)
        {
            Kick(pool);
        }
    }

    private async Task RemoveQuietlyAsync(Pooled pooled, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        await RemoveEngineQuietlyAsync(pooled.Id);
        Claims.DeleteIdentityDirectory(pooled.IdentityDirectory);
    }

    private async Task RemoveEngineQuietlyAsync(string id)
    {
        try
        {
            // Not bound by the node's stopping: a half-made container must not stay behind.
            using var timeout = new CancellationTokenSource(_settings.ShutdownTimeout, _time);
            await _runtime.RemoveAsync(id, timeout.Token);
        }
        catch (Exception ex)
        {
            // Best effort (the engine may be gone, or its client disposed at shutdown): the next reconcile removes it.
            Log.RemoveFailed(_logger, Short(id), ex.Message);
        }
    }

    private static string Short(string id) => id[..Math.Min(12, id.Length)];

    private sealed class ClassPool(ContainerClassOptions containerClass)
    {
        public ContainerClassOptions Class { get; } = containerClass;

        public List<Pooled> Ready { get; } = [];

        public int Creating { get; set; }

        public int Failures { get; set; }

        public DateTimeOffset RetryAt { get; set; } = DateTimeOffset.MinValue;

        public ITimer? RetryTimer { get; set; }

        public string? Fingerprint { get; set; }

        public ContainerSpec? Template { get; set; }
    }

    private sealed class Pooled(string className, string id, string fingerprint, string identityDirectory)
    {
        public string ClassName { get; } = className;

        public string Id { get; } = id;

        public string Fingerprint { get; } = fingerprint;

        public string IdentityDirectory { get; } = identityDirectory;

        /// <summary>Watches the container while it waits in the pool; disposed when it leaves the pool.</summary>
        public ContainerExitMonitor? Monitor { get; set; }
    }
}
