using System.Collections.Concurrent;
using Berth.Containers;
using Berth.Runtime;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

/// <summary>
/// One live follower: the platform's records and the output of every running container of this node that the filter wants,
/// merged into one bounded <see cref="LiveLogQueue"/>. New containers are followed from their start (through
/// <see cref="ContainerStartEvents"/>, and a look at the engine's list every heartbeat); a container's stream ends when it stops.
/// Disposing ends every engine stream it opened.
/// </summary>
internal sealed class LiveLogSession : IAsyncDisposable
{
    private readonly LiveLogFilter _filter;
    private readonly LiveLogQueue _queue;
    private readonly IContainerOperations _containers;
    private readonly IContainerExecOperations _engine;
    private readonly IReadOnlyDictionary<string, string> _nodeLabels;
    private readonly string _app;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<LiveLogRecord, LiveLogRecord> _enrich;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, byte> _followed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastSeen = new(StringComparer.Ordinal);
    private readonly List<Task> _tasks = [];
    private readonly List<IDisposable> _subscriptions = [];
    private readonly string? _onlyContainer;
    private int _openStreams;

    /// <param name="filter">What the follower wants.</param>
    /// <param name="queue">Where records go.</param>
    /// <param name="containers">The engine's container list.</param>
    /// <param name="engine">The engine's log streams.</param>
    /// <param name="nodeLabels">Labels of this node's containers (<see cref="BerthNames.ForNode"/>).</param>
    /// <param name="app">The app, for container lines.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">For engine failures.</param>
    /// <param name="enrich">Completes a platform record (its app, the object ID of a named object) before it is filtered.</param>
    /// <param name="onlyContainer">When set, only this container is followed (no new ones).</param>
    public LiveLogSession(
        LiveLogFilter filter, LiveLogQueue queue, IContainerOperations containers, IContainerExecOperations engine, IReadOnlyDictionary<string, string> nodeLabels,
        string app, TimeProvider time, ILogger logger, Func<LiveLogRecord, LiveLogRecord> enrich, string? onlyContainer = null)
    {
        _filter = filter;
        _queue = queue;
        _containers = containers;
        _engine = engine;
        _nodeLabels = nodeLabels;
        _app = app;
        _time = time;
        _logger = logger;
        _enrich = enrich;
        _onlyContainer = onlyContainer;
    }

    /// <summary>The longest container line passed on, in characters (<see cref="LiveLogOptions.MaxMessageChars"/>); longer ones are cut and end in '…'.</summary>
    public int MaxMessageChars { get; init; } = new LiveLogOptions().MaxMessageChars;

    /// <summary>Engine log streams open now.</summary>
    public int OpenStreams => Volatile.Read(ref _openStreams);

    /// <summary>
    /// Starts following: the last <paramref name="tail"/> platform records the filter wants and the last <paramref name="tail"/>
    /// lines of each running container it wants first (or what <paramref name="containerStart"/> asks of each), then everything
    /// new. Heartbeats go into the queue every <paramref name="heartbeat"/>.
    /// </summary>
    public async Task StartAsync(
        int tail, LogOptions? containerStart, PlatformLogBuffer? platform, ContainerStartEvents? starts, TimeSpan heartbeat, CancellationToken cancellationToken)
    {
        if (_filter.Platform && platform is not null)
        {
            _subscriptions.Add(platform.Subscribe(record =>
            {
                var full = _enrich(record);
                if (_filter.WantsPlatform(full))
                {
                    _queue.Post(full);
                }
            }, out var snapshot));
            var since = containerStart?.Since;
            foreach (var record in snapshot.Select(_enrich).Where(r => _filter.WantsPlatform(r) && (since is null || r.Time >= since)).TakeLast(tail))
            {
                _queue.Post(record);
            }
        }

        if (!_filter.Containers || _filter.MinLevel is not null)
        {
            StartHeartbeat(heartbeat, rescan: false);
            return;
        }

        if (_onlyContainer is null && starts is not null)
        {
            _subscriptions.Add(starts.Subscribe(change =>
            {
                if (_filter.WantsContainer(change.ClassName, change.ObjectId, change.ObjectName))
                {
                    // A new container: its output from just before the change (the engine's clock is the host's).
                    Follow(change.ContainerId!, change.ClassName, change.ObjectId, change.ObjectName, new LogOptions(true, null, change.At - TimeSpan.FromSeconds(5)));
                }
            }));
        }

        await ScanAsync(containerStart ?? new LogOptions(true, tail, null), null, cancellationToken);
        StartHeartbeat(heartbeat, rescan: _onlyContainer is null);
    }

    /// <summary>The records as they come, until disposed or cancelled.</summary>
    public IAsyncEnumerable<LiveLogRecord> ReadAllAsync(CancellationToken cancellationToken) => _queue.ReadAllAsync(cancellationToken);

    /// <summary>Follows every running container of the node the filter wants that is not followed yet.</summary>
    private async Task ScanAsync(LogOptions? initial, DateTimeOffset? startedAfter, CancellationToken cancellationToken)
    {
        IReadOnlyList<ContainerSummary> running;
        try
        {
            running = await _containers.ListAsync(_nodeLabels, cancellationToken);
        }
        catch (ContainerRuntimeException ex)
        {
            Logs.Log.ListFailed(_logger, ex.Message);
            return;
        }

        foreach (var container in running)
        {
            if (_onlyContainer is null ? container.State != EngineContainerState.Running : container.Id != _onlyContainer)
            {
                continue;
            }

            var className = BerthNames.Label(container.Labels, BerthLabels.Class);
            var objectId = BerthNames.Label(container.Labels, BerthLabels.ObjectId);
            var name = BerthNames.Label(container.Labels, BerthLabels.ObjectName);
            if (className.Length == 0 || !_filter.WantsContainer(className, objectId, name.Length == 0 ? null : name))
            {
                continue;
            }

            // At the start: the last lines; later (a container no start event announced): all its output since it was created.
            var options = initial ?? new LogOptions(true, null, container.CreatedAt);
            if (startedAfter is null || container.CreatedAt >= startedAfter || _lastSeen.ContainsKey(container.Id))
            {
                Follow(container.Id, className, objectId, name.Length == 0 ? null : name, options);
            }
        }
    }

    private void Follow(string containerId, string className, string objectId, string? objectName, LogOptions options)
    {
        if (_stop.IsCancellationRequested || !_followed.TryAdd(containerId, 0))
        {
            return;
        }

        // Followed before, and its stream ended (a restart): from the last line seen, without repeating it.
        DateTimeOffset? after = _lastSeen.TryGetValue(containerId, out var last) ? last : null;
        if (after is not null)
        {
            options = new LogOptions(true, null, after);
        }

        Logs.Log.FollowContainer(_logger, className, objectId, containerId[..Math.Min(12, containerId.Length)]);
        lock (_tasks)
        {
            _tasks.RemoveAll(t => t.IsCompleted);
            _tasks.Add(ReadContainerAsync(containerId, className, objectId, objectName, options, after));
        }
    }

    private async Task ReadContainerAsync(string containerId, string className, string objectId, string? objectName, LogOptions options, DateTimeOffset? after)
    {
        await Task.Yield();
        var shortId = containerId[..Math.Min(12, containerId.Length)];
        Interlocked.Increment(ref _openStreams);
        try
        {
            await foreach (var line in _engine.GetLogsAsync(containerId, options, _stop.Token))
            {
                if (line.Timestamp is { } stamp)
                {
                    if (stamp <= after)
                    {
                        continue;
                    }

                    _lastSeen[containerId] = stamp;
                }

                var text = line.Text.EndsWith('\n') ? line.Text[..^1] : line.Text;
                if (text.Length > MaxMessageChars)
                {
                    // As for platform records: every follower holds its own copy of a queued line.
                    text = string.Concat(text.AsSpan(0, MaxMessageChars), "…");
                }

                _queue.Post(new LiveLogRecord(line.Timestamp ?? _time.GetUtcNow(), line.Stream == LogStream.Stderr ? "stderr" : "stdout", _app,
                    className, objectId, objectName, shortId, null, null, null, null, text));
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // The follower went away.
        }
        catch (Exception ex) when (ex is ContainerRuntimeException or IOException or HttpRequestException)
        {
            // Removed under us, or the engine went away: the container's stream ends, the others go on.
            if (!_stop.IsCancellationRequested)
            {
                Logs.Log.ContainerFailed(_logger, shortId, ex.Message);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _openStreams);
            _followed.TryRemove(containerId, out _);
        }
    }

    private void StartHeartbeat(TimeSpan interval, bool rescan)
    {
        var started = _time.GetUtcNow();
        lock (_tasks)
        {
            _tasks.Add(HeartbeatAsync());
        }

        async Task HeartbeatAsync()
        {
            using var timer = new PeriodicTimer(interval, _time);
            try
            {
                while (await timer.WaitForNextTickAsync(_stop.Token))
                {
                    _queue.Post(LiveLogQueue.Heartbeat);
                    if (rescan)
                    {
                        await ScanAsync(null, started, _stop.Token);
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // The follower went away.
            }
        }
    }

    /// <summary>Stops following: unsubscribes, ends every engine stream and waits for them to close.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }

        await _stop.CancelAsync();
        Task[] tasks;
        lock (_tasks)
        {
            tasks = [.. _tasks];
        }

        await Task.WhenAll(tasks).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _queue.Complete();
        _stop.Dispose();
    }
}
