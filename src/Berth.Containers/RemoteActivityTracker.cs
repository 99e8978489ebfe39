using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Containers;

/// <summary>
/// The requests this node's gateway forwards straight to containers that other nodes host, reported to their objects so that
/// <c>sleepAfter</c> never stops a container with a request in flight on any node (docs/cluster.md, "Requests on any node").
/// </summary>
/// <remarks>
/// The object's node cannot see these requests: they go from this node to the container's address, not through its lease.
/// So the ready call that precedes each one holds the container for 3 × <see cref="ContainerOptions.RemoteActivityInterval"/>,
/// and every interval this node tells each object how many of its requests are in flight here (a count above 0 renews the
/// hold; 0 ends it and renews the idle deadline from then). A node that dies stops renewing, and its holds lapse.
/// Only the cross-node path uses this: a request to a local container enters the lock-free lease as before.
/// </remarks>
public sealed partial class RemoteActivityTracker : BackgroundService
{
    // An object this node has not forwarded to for this long is forgotten (a new request re-enters it).
    private static readonly TimeSpan ForgetAfter = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<(string ClassName, string ObjectId), Entry> _entries = new();
    private readonly string _nodeId;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger<RemoteActivityTracker> _logger;

    /// <summary>Creates the tracker for this node (<see cref="ContainerOptions.NodeId"/>).</summary>
    public RemoteActivityTracker(IOptions<ContainerOptions> options, TimeProvider timeProvider, ILogger<RemoteActivityTracker> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _nodeId = options.Value.NodeId;
        _interval = options.Value.RemoteActivityInterval;
        _time = timeProvider;
        _logger = logger;
    }

    /// <summary>This node's ID, which the object's ready call carries so the object knows the request comes from elsewhere.</summary>
    public string NodeId => _nodeId;

    /// <summary>Objects with requests in flight or a count not yet reported, for tests.</summary>
    internal int Count => _entries.Count;

    /// <summary>
    /// Counts one request to <paramref name="container"/>'s remote container as in flight until <see cref="Exit"/> is called
    /// on the returned handle, exactly once.
    /// </summary>
    public RemoteActivity Enter(string className, string objectId, IContainer container)
    {
        ArgumentNullException.ThrowIfNull(container);
        while (true)
        {
            var entry = _entries.GetOrAdd((className, objectId), static (_, target) => new Entry(target), container);
            lock (entry)
            {
                // Forgotten between the lookup and the lock: take the new entry.
                if (!entry.Removed)
                {
                    entry.InFlight++;
                    entry.Target = container;
                    return new RemoteActivity(this, entry);
                }
            }
        }
    }

    private void Exit(Entry entry)
    {
        lock (entry)
        {
            entry.InFlight--;
            entry.Dirty = true;
            entry.LastUsed = _time.GetTimestamp();
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                // Each report catches its own failure; a round itself has nothing else that can fail.
                await ReportAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the holds lapse on their own.
        }
    }

    /// <summary>One round: tells each object with requests in flight here, or ended since the last round, their count.</summary>
    internal async Task ReportAsync(CancellationToken cancellationToken)
    {
        List<(IContainer Target, int InFlight, string ClassName, string ObjectId)>? reports = null;
        foreach (var (key, entry) in _entries)
        {
            lock (entry)
            {
                if (entry.InFlight > 0 || entry.Dirty)
                {
                    entry.Dirty = false;
                    (reports ??= []).Add((entry.Target, entry.InFlight, key.ClassName, key.ObjectId));
                }
                else if (_time.GetElapsedTime(entry.LastUsed) >= ForgetAfter)
                {
                    entry.Removed = true;
                    _entries.TryRemove(new KeyValuePair<(string, string), Entry>(key, entry));
                }
            }
        }

        if (reports is null)
        {
            return;
        }

        // A round never outlasts the next: a node that does not answer (dying) only loses its renewals.
        using var round = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        round.CancelAfter(_interval);
        await Task.WhenAll(reports.Select(r => ReportAsync(r.Target, r.InFlight, r.ClassName, r.ObjectId, round.Token)));
    }

    private async Task ReportAsync(IContainer target, int inFlight, string className, string objectId, CancellationToken cancellationToken)
    {
        try
        {
            await Lifecycle(target).RenewRemoteActivityAsync(_nodeId, inFlight, cancellationToken);
        }
        catch (Exception ex)
        {
            // Not answered within the round (cancelled) or failed: the hold lapses unless the next round gets through.
            Log.RemoteActivityReportFailed(_logger, className, objectId, inFlight, ex.Message);
        }
    }

    // Fakes implement the lifecycle interface directly; Orleans references are cast.
    private static IContainerLifecycle Lifecycle(IContainer container) =>
        container as IContainerLifecycle ?? container.AsReference<IContainerLifecycle>();

    /// <summary>One object's requests from this node.</summary>
    internal sealed class Entry(IContainer target)
    {
        public IContainer Target { get; set; } = target;

        public int InFlight { get; set; }

        public bool Dirty { get; set; }

        public bool Removed { get; set; }

        public long LastUsed { get; set; }
    }

    /// <summary>One request counted by <see cref="Enter"/>; <see cref="Exit"/> ends it.</summary>
    public readonly struct RemoteActivity
    {
        private readonly RemoteActivityTracker? _tracker;
        private readonly Entry? _entry;

        internal RemoteActivity(RemoteActivityTracker tracker, Entry entry)
        {
            _tracker = tracker;
            _entry = entry;
        }

        /// <summary>Ends the request: the next round reports the lower count.</summary>
        public void Exit()
        {
            if (_entry is not null)
            {
                _tracker!.Exit(_entry);
            }
        }
    }
}
