using Berth.Objects;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Berth.Containers;

/// <summary>
/// The node's <see cref="IRolloutCoordinator"/>: one rollout at a time per class, run in the background, its progress kept in
/// <c>{DataDirectory}/rollouts.db</c>. Each step replaces, oldest first, running containers whose version is not the one their
/// ID maps to (<see cref="ClassTraffic.VersionFor"/>) until ceil(step % × total) are replaced; sleeping objects need nothing,
/// they wake on the version their ID maps to. When the silo becomes active it resumes rollouts that were running, then rolls
/// out containers left on a version other than their ID's (start-up is a deploy too).
/// </summary>
internal sealed class RolloutCoordinator : IRolloutCoordinator, ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    /// <summary>Most containers of one class replaced at the same time.</summary>
    internal const int MaxParallelReplacements = 16;

    /// <summary>How often a rollout tries to replace one container whose replacement failed before it leaves it.</summary>
    internal const int MaxReplaceAttempts = 3;

    private readonly IServiceProvider _services;
    private readonly IContainerOperations _runtime;
    private readonly ContainerClassRegistry _classes;
    private readonly ContainerOptions _options;
    private readonly RolloutStateStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RolloutRun> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RolloutRecord> _latest = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _active = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private readonly SemaphoreSlim _saveLock = new(1, 1);
    private Task? _loaded;

    public RolloutCoordinator(
        IServiceProvider services, IContainerOperations runtime, ContainerClassRegistry classes, IOptions<ContainerOptions> options,
        IOptions<DurableObjectOptions> objects, TimeProvider time, ILogger<RolloutCoordinator> logger)
    {
        _services = services;
        _runtime = runtime;
        _classes = classes;
        _options = options.Value;
        _store = new RolloutStateStore(Path.Combine(objects.Value.DataDirectory, "rollouts.db"));
        _time = time;
        _logger = logger;
    }

    private IClassVersionStore Versions => _services.GetService<IClassVersionStore>()
        ?? throw new InvalidOperationException("Rollouts need the node's version store (IClassVersionStore); none is registered.");

    public void Participate(ISiloLifecycle lifecycle) =>
        // After the reconciler (Active): the containers an earlier run left have been adopted by their objects.
        lifecycle.Subscribe(nameof(RolloutCoordinator), ServiceLifecycleStage.Active + 1, OnActiveAsync, OnStopAsync);

    /// <inheritdoc />
    public async Task<RolloutStatus> StartAsync(RolloutRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_classes.TryGet(request.ClassName, out var containerClass))
        {
            throw new ArgumentException($"Container class '{request.ClassName}' is not registered; registered: {string.Join(", ", _classes.Classes.Select(c => c.Options.ClassName))}.", nameof(request));
        }

        if (request.Percent is < 1 or > 100)
        {
            throw new ArgumentException($"Percent {request.Percent} is not allowed; use 1-100.", nameof(request));
        }

        var versions = Versions;
        if (await versions.GetAsync(request.ClassName, request.ToVersion, cancellationToken) is null)
        {
            throw new ArgumentException($"Container class '{request.ClassName}' has no version {request.ToVersion}.", nameof(request));
        }

        await EnsureLoadedAsync(cancellationToken);
        await _startLock.WaitAsync(cancellationToken);
        try
        {
            var before = await versions.GetTrafficAsync(request.ClassName, cancellationToken);
            var traffic = request.Percent == 100 || before is null || before.Current == request.ToVersion
                ? new ClassTraffic(request.ClassName, request.ToVersion, null, 0)
                : new ClassTraffic(request.ClassName, before.Current, request.ToVersion, request.Percent);

            // The traffic first: from now on new activations (sleeping objects waking) start on the version their ID maps to.
            await versions.SetTrafficAsync(traffic, cancellationToken);
            var outdated = await ListOutdatedAsync(request.ClassName, traffic, cancellationToken);
            var now = _time.GetUtcNow();
            var status = new RolloutStatus(request.ClassName, before?.Current, request.ToVersion, RolloutStates.Running,
                containerClass.Options.EffectiveRolloutSteps, 0, 0, outdated.Count, now, now, null);
            var record = new RolloutRecord(status, request.Percent, request.Trigger);
            RolloutLog.Started(_logger, request.ClassName, request.ToVersion, request.Trigger, request.Percent, outdated.Count, string.Join(", ", status.Steps));
            await LaunchAsync(record, resumed: false, cancellationToken);
            return status;
        }
        finally
        {
            _startLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<RolloutStatus?> GetStatusAsync(string className, CancellationToken cancellationToken = default)
    {
        await EnsureLoadedAsync(cancellationToken);
        lock (_gate)
        {
            return _latest.TryGetValue(className, out var record) ? record.Status : null;
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RolloutStatus>> ListAsync(CancellationToken cancellationToken = default)
    {
        await EnsureLoadedAsync(cancellationToken);
        lock (_gate)
        {
            return _latest.Values.Select(r => r.Status).OrderBy(s => s.ClassName, StringComparer.Ordinal).ToList();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await OnStopAsync(CancellationToken.None);
        _stopping.Dispose();
        _startLock.Dispose();
        _saveLock.Dispose();
    }

    private Task EnsureLoadedAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _loaded ??= LoadAsync();
        }

        return _loaded.WaitAsync(cancellationToken);
    }

    private async Task LoadAsync()
    {
        foreach (var record in await _store.LoadAllAsync(CancellationToken.None))
        {
            lock (_gate)
            {
                _latest[record.Status.ClassName] = record;
            }
        }
    }

    private async Task OnActiveAsync(CancellationToken cancellationToken)
    {
        await EnsureLoadedAsync(cancellationToken);
        _active.TrySetResult();
        if (_services.GetService<IClassVersionStore>() is not { } versions)
        {
            return;
        }

        // A node restarted mid-rollout resumes it.
        List<RolloutRecord> running;
        lock (_gate)
        {
            running = _latest.Values.Where(r => r.Status.State == RolloutStates.Running && !_runs.ContainsKey(r.Status.ClassName)).ToList();
        }

        foreach (var record in running)
        {
            if (_classes.TryGet(record.Status.ClassName, out _))
            {
                RolloutLog.Resumed(_logger, record.Status.ClassName, record.Status.ToVersion, record.Status.StepIndex, record.Status.Replaced, record.Status.Total);
                await LaunchAsync(record, resumed: true, cancellationToken);
            }
        }

        // Start-up is a deploy too: containers adopted on a version their ID does not map to (or unlabelled) are rolled out.
        foreach (var containerClass in _classes.Classes)
        {
            var className = containerClass.Options.ClassName;
            await _startLock.WaitAsync(cancellationToken);
            try
            {
                lock (_gate)
                {
                    if (_runs.ContainsKey(className))
                    {
                        continue;
                    }
                }

                if (await versions.GetTrafficAsync(className, cancellationToken) is not { } traffic)
                {
                    continue;
                }

                var outdated = await ListOutdatedAsync(className, traffic, cancellationToken);
                if (outdated.Count == 0)
                {
                    continue;
                }

                var toVersion = traffic.Candidate ?? traffic.Current;
                RolloutLog.StartupDeploy(_logger, className, outdated.Count, toVersion);
                var now = _time.GetUtcNow();
                var status = new RolloutStatus(className, null, toVersion, RolloutStates.Running, containerClass.Options.EffectiveRolloutSteps, 0, 0, outdated.Count, now, now, null);
                await LaunchAsync(new RolloutRecord(status, traffic.Candidate is null ? 100 : traffic.CandidatePercent, "startup"), resumed: false, cancellationToken);
            }
            finally
            {
                _startLock.Release();
            }
        }
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        List<RolloutRun> runs;
        lock (_gate)
        {
            runs = [.. _runs.Values];
        }

        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync();
        }

        // A rollout cut by the shutdown stays "running" in the store: the next start resumes it.
        await Task.WhenAll(runs.Select(r => r.Task.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default)))
            .WaitAsync(cancellationToken);
    }

    /// <summary>Saves <paramref name="record"/>, supersedes the class's running rollout and starts running this one.</summary>
    private async Task LaunchAsync(RolloutRecord record, bool resumed, CancellationToken cancellationToken)
    {
        var className = record.Status.ClassName;
        RolloutRun? previous;
        var run = new RolloutRun(record, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
        lock (_gate)
        {
            _runs.TryGetValue(className, out previous);
            _runs[className] = run;
            _latest[className] = record;
        }

        if (previous is not null && !resumed)
        {
            await previous.Cancellation.CancelAsync();
            RolloutLog.Superseded(_logger, className, previous.Record.Status.ToVersion, record.Status.ToVersion);
        }

        await _store.SaveAsync(record, cancellationToken);
        run.Task = Task.Run(() => RunAsync(run), CancellationToken.None);
    }

    private async Task RunAsync(RolloutRun run)
    {
        var cancellationToken = run.Cancellation.Token;
        var className = run.Record.Status.ClassName;
        var toVersion = run.Record.Status.ToVersion;
        try
        {
            await _active.Task.WaitAsync(cancellationToken);
            var containerClass = _classes.Get(className);
            var steps = run.Record.Status.Steps;
            // Containers whose replacement failed (a call timed out, the engine erred), by how often: retried, up to MaxReplaceAttempts.
            var failed = new Dictionary<string, int>(StringComparer.Ordinal);
            while (run.Record.Status.StepIndex < steps.Count)
            {
                var step = run.Record.Status.StepIndex;
                var target = RolloutPlanner.TargetFor(steps[step], run.Record.Status.Total);
                while (run.Record.Status.Replaced < target)
                {
                    var traffic = await Versions.GetTrafficAsync(className, cancellationToken)
                        ?? throw new InvalidOperationException($"Container class '{className}' lost its traffic during the rollout.");
                    var outdated = (await ListOutdatedAsync(className, traffic, cancellationToken))
                        .Where(i => failed.GetValueOrDefault(i.ContainerId) < MaxReplaceAttempts).ToList();
                    var pick = RolloutPlanner.Pick(outdated, target - run.Record.Status.Replaced, _time.GetUtcNow(), containerClass.Options.RolloutActiveGracePeriod);
                    if (outdated.Count == 0)
                    {
                        // Nothing left on another version (the rest slept or exited): they wake on the right one.
                        break;
                    }

                    if (pick.Now.Count == 0)
                    {
                        await Task.Delay(pick.Wait, _time, cancellationToken);
                        continue;
                    }

                    await Parallel.ForEachAsync(pick.Now, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelReplacements, CancellationToken = cancellationToken },
                        async (instance, ct) =>
                        {
                            var outcome = await ReplaceAsync(className, instance, traffic.VersionFor(instance.ObjectId), containerClass.Options.RolloutStopGracePeriod, ct);
                            if (outcome is null)
                            {
                                lock (failed)
                                {
                                    failed[instance.ContainerId] = failed.GetValueOrDefault(instance.ContainerId) + 1;
                                }

                                return;
                            }

                            var status = Update(run, s => s with { Replaced = s.Replaced + 1 });
                            RolloutLog.Replaced(_logger, className, instance.ObjectId, outcome.Value.ToString(), status.Replaced, status.Total);
                            await SaveAsync(run, CancellationToken.None);
                        });
                }

                var done = Update(run, s => s with { StepIndex = s.StepIndex + 1 });
                await SaveAsync(run, CancellationToken.None);
                RolloutLog.StepDone(_logger, className, toVersion, step + 1, steps[step], done.Replaced, done.Total);
            }

            var completed = Update(run, s => s with { State = RolloutStates.Completed });
            await SaveAsync(run, CancellationToken.None);
            RolloutLog.Completed(_logger, className, toVersion, completed.Replaced, completed.Total, (completed.UpdatedAt - completed.StartedAt).TotalSeconds);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Superseded (the new rollout is the class's newest now) or the node is stopping (resumed at the next start).
        }
        catch (Exception ex)
        {
            Update(run, s => s with { State = RolloutStates.Failed, Error = ex.Message });
            await SaveAsync(run, CancellationToken.None);
            RolloutLog.Failed(_logger, className, toVersion, ex.Message);
        }
        finally
        {
            lock (_gate)
            {
                if (_runs.TryGetValue(className, out var current) && current == run)
                {
                    _runs.Remove(className);
                }
            }

            run.Cancellation.Dispose();
        }
    }

    /// <summary>Has the object replace its container; <see langword="null"/> when that failed (logged).</summary>
    private async Task<ContainerReplaceOutcome?> ReplaceAsync(string className, RolloutInstance instance, int toVersion, TimeSpan grace, CancellationToken cancellationToken)
    {
        try
        {
            if (!DurableObjectId.TryParse(instance.ObjectId, out var id))
            {
                throw new InvalidOperationException($"'{instance.ObjectId}' is not an object ID.");
            }

            var owner = _services.GetRequiredKeyedService<DurableObjectNamespace<IContainer>>(className).Get(id).AsReference<IContainerLifecycle>();
            var request = new ContainerReplaceRequest(toVersion, grace);
            long generation = 0;
            while (true)
            {
                // WaitAsync: a stopping node does not wait on a slice (the object's replacement goes on; the next start resumes the rollout).
                var slice = await owner.ReplaceSliceAsync(request, generation, cancellationToken).WaitAsync(cancellationToken);
                if (slice.Outcome != ContainerReplaceOutcome.Pending)
                {
                    return slice.Outcome;
                }

                generation = slice.Generation;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            RolloutLog.ReplaceFailed(_logger, className, instance.ObjectId, instance.ContainerId[..Math.Min(12, instance.ContainerId.Length)], ex.Message);
            return null;
        }
    }

    private async Task<IReadOnlyList<RolloutInstance>> ListOutdatedAsync(string className, ClassTraffic traffic, CancellationToken cancellationToken)
    {
        var labels = BerthNames.ForNode(_options.AppName, _options.NodeId);
        labels[BerthLabels.Class] = className;
        return RolloutPlanner.Outdated(await _runtime.ListAsync(labels, cancellationToken), traffic);
    }

    private RolloutStatus Update(RolloutRun run, Func<RolloutStatus, RolloutStatus> change)
    {
        lock (_gate)
        {
            var status = change(run.Record.Status) with { UpdatedAt = _time.GetUtcNow() };
            run.Record = run.Record with { Status = status };
            if (_runs.TryGetValue(status.ClassName, out var current) && current == run)
            {
                _latest[status.ClassName] = run.Record;
            }

            return status;
        }
    }

    private async Task SaveAsync(RolloutRun run, CancellationToken cancellationToken)
    {
        // One write at a time, each of the newest snapshot: the stored progress never goes back.
        await _saveLock.WaitAsync(cancellationToken);
        try
        {
            RolloutRecord record;
            lock (_gate)
            {
                // A superseded rollout no longer writes: the class's newest is the one that superseded it.
                if (!_runs.TryGetValue(run.Record.Status.ClassName, out var current) || current != run)
                {
                    return;
                }

                record = run.Record;
            }

            await _store.SaveAsync(record, cancellationToken);
        }
        finally
        {
            _saveLock.Release();
        }
    }

    private sealed class RolloutRun(RolloutRecord record, CancellationTokenSource cancellation)
    {
        public RolloutRecord Record { get; set; } = record;

        public CancellationTokenSource Cancellation { get; } = cancellation;

        public Task Task { get; set; } = Task.CompletedTask;
    }
}

/// <summary>The values of <see cref="RolloutStatus.State"/>.</summary>
public static class RolloutStates
{
    /// <summary>Replacing containers.</summary>
    public const string Running = "running";

    /// <summary>Every step done.</summary>
    public const string Completed = "completed";

    /// <summary>Stopped by an error (<see cref="RolloutStatus.Error"/>).</summary>
    public const string Failed = "failed";

    /// <summary>Another rollout of the class replaced it.</summary>
    public const string Superseded = "superseded";
}
