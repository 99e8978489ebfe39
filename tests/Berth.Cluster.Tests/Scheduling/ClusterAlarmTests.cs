using Berth.Objects.Alarms;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Cluster.Tests.Scheduling;

/// <summary>
/// Alarms across nodes on real PostgreSQL (a database per test) and a fake clock: each "node" is a scheduler with the shared
/// index and a claimer, with its own connection pool; a node "dies" by being disposed without any cleanup.
/// </summary>
public sealed class ClusterAlarmTests : IAsyncLifetime
{
    private static readonly ClusterSchedulingOptions Options = new()
    {
        ConnectionString = "unused",
        PollInterval = TimeSpan.FromSeconds(1),
        OverdueGrace = TimeSpan.FromSeconds(5),
        NodeTimeout = TimeSpan.FromSeconds(20),
        ClaimLease = TimeSpan.FromSeconds(30),
    };

    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-22T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly List<Node> _nodes = [];
    private SchedulingTestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await SchedulingTestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }

        await _database.DisposeAsync();
    }

    [Fact]
    public async Task ArmingNodeDies_AlarmDueLater_SurvivorWakesObjectOnceWhenDue()
    {
        var objects = new ObjectsStandIn(_time);
        var a = await StartNodeAsync("node-a", objects);
        var b = await StartNodeAsync("node-b", objects);
        objects.Host = a.Scheduler;
        var due = _time.GetUtcNow().AddSeconds(60);
        objects.SetAlarm("obj/1", due);
        await a.Index.WhenWrittenAsync("obj/1");
        a.Dispose(); // killed: no cleanup, its timer and its index writer are gone
        objects.Host = b.Scheduler; // the object reactivates on the survivor

        await AdvanceAndPollAsync(b, TimeSpan.FromSeconds(59));
        Assert.Empty(objects.Fired);
        await AdvanceAndPollAsync(b, TimeSpan.FromSeconds(1)); // due; node-a silent for 60 s > NodeTimeout: no grace needed

        Assert.Equal([("obj/1", due.ToUnixTimeMilliseconds())], objects.Fired);
        await b.Index.WhenWrittenAsync("obj/1");
        Assert.Equal(0, await _database.ScalarAsync("SELECT count(*) FROM berth_alarms"));
        await AdvanceAndPollAsync(b, Options.ClaimLease * 3);
        Assert.Single(objects.Fired);
        Assert.Equal(1, objects.Wakes["obj/1"]);
    }

    [Fact]
    public async Task ArmingNodeDiesJustBeforeDue_NotYetTimedOut_WokenAfterGrace()
    {
        var objects = new ObjectsStandIn(_time);
        var a = await StartNodeAsync("node-a", objects);
        var b = await StartNodeAsync("node-b", objects);
        objects.Host = a.Scheduler;
        objects.SetAlarm("obj/1", _time.GetUtcNow().AddSeconds(2));
        await a.Index.WhenWrittenAsync("obj/1");
        a.Dispose();
        objects.Host = b.Scheduler;

        await AdvanceAndPollAsync(b, TimeSpan.FromSeconds(2) + Options.OverdueGrace - TimeSpan.FromSeconds(1));
        Assert.Empty(objects.Fired); // node-a could still be alive, its own timer firing: left to it
        await AdvanceAndPollAsync(b, TimeSpan.FromSeconds(1));

        Assert.Single(objects.Fired);
    }

    [Fact]
    public async Task LiveNode_AlarmWithinGrace_LeftToItsOwnTimer()
    {
        var objects = new ObjectsStandIn(_time);
        var a = await StartNodeAsync("node-a", objects);
        var b = await StartNodeAsync("node-b", objects);
        objects.Host = a.Scheduler;
        objects.SetAlarm("obj/1", _time.GetUtcNow().AddSeconds(10));
        await a.Index.WhenWrittenAsync("obj/1");

        _time.Advance(TimeSpan.FromSeconds(10)); // node-a's own timer wakes the object on time
        await a.Index.WhenWrittenAsync("obj/1");
        Assert.Equal(0, await b.Claimer.PollOnceAsync(CancellationToken.None));

        Assert.Single(objects.Fired);
        Assert.Equal(1, objects.Wakes["obj/1"]);
        Assert.Equal(0, await _database.ScalarAsync("SELECT count(*) FROM berth_alarms"));
    }

    [Fact]
    public async Task ClaimedAlarm_RearmedLaterBeforeWake_NotFiredStaleButFiresAtNewTime()
    {
        var objects = new ObjectsStandIn(_time);
        var a = await StartNodeAsync("node-a", objects);
        var b = await StartNodeAsync("node-b", objects);
        var c = await StartNodeAsync("node-c", objects);
        objects.Host = a.Scheduler;
        var first = _time.GetUtcNow().AddSeconds(5);
        objects.SetAlarm("obj/1", first);
        await a.Index.WhenWrittenAsync("obj/1");
        a.Dispose();

        // The object, now on node-c, moves its alarm an hour later between node-b's claim and node-b's wake.
        var later = first.AddHours(1);
        objects.Host = c.Scheduler;
        objects.BeforeWake = async grainId =>
        {
            objects.BeforeWake = null;
            objects.SetAlarm(grainId, later);
            await c.Index.WhenWrittenAsync(grainId);
        };
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await b.Claimer.PollOnceAsync(CancellationToken.None));

        Assert.Empty(objects.Fired);
        Assert.Equal(later.ToUnixTimeMilliseconds(), await _database.ScalarAsync("SELECT due_ms FROM berth_alarms WHERE claimed_by IS NULL"));
        Assert.Equal(0, await b.Claimer.PollOnceAsync(CancellationToken.None));
        _time.Advance(later - _time.GetUtcNow()); // node-c's own timer
        Assert.Equal([("obj/1", later.ToUnixTimeMilliseconds())], objects.Fired);
    }

    [Fact]
    public async Task ClaimedAlarm_DeletedBeforeWake_NeverFiresAndRowIsGone()
    {
        var objects = new ObjectsStandIn(_time);
        var a = await StartNodeAsync("node-a", objects);
        var b = await StartNodeAsync("node-b", objects);
        objects.Host = a.Scheduler;
        objects.SetAlarm("obj/1", _time.GetUtcNow().AddSeconds(5));
        await a.Index.WhenWrittenAsync("obj/1");
        a.Dispose();

        objects.Host = b.Scheduler;
        objects.BeforeWake = grainId =>
        {
            objects.BeforeWake = null;
            objects.DeleteAlarm(grainId);
            return Task.CompletedTask;
        };
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await b.Claimer.PollOnceAsync(CancellationToken.None));
        await b.Index.WhenWrittenAsync("obj/1");

        Assert.Empty(objects.Fired);
        Assert.Equal(0, await _database.ScalarAsync("SELECT count(*) FROM berth_alarms"));
        await AdvanceAndPollAsync(b, TimeSpan.FromMinutes(2));
        Assert.Empty(objects.Fired);
    }

    [Fact]
    public async Task TwoSurvivors_PollAtOnce_EachOrphanedAlarmClaimedAndFiredOnce()
    {
        var objects = new ObjectsStandIn(_time);
        var a = await StartNodeAsync("node-a", objects);
        var b = await StartNodeAsync("node-b", objects);
        var c = await StartNodeAsync("node-c", objects);
        objects.Host = a.Scheduler;
        var ids = Enumerable.Range(0, 60).Select(i => $"obj/{i}").ToList();
        foreach (var id in ids)
        {
            objects.SetAlarm(id, _time.GetUtcNow().AddSeconds(1));
        }

        await Task.WhenAll(ids.Select(a.Index.WhenWrittenAsync));
        a.Dispose();
        objects.Host = b.Scheduler;
        _time.Advance(TimeSpan.FromMinutes(1));

        var claimed = await Task.WhenAll(b.Claimer.PollOnceAsync(CancellationToken.None), c.Claimer.PollOnceAsync(CancellationToken.None));

        Assert.Equal(ids.Count, claimed.Sum());
        Assert.Equal(ids.Order(StringComparer.Ordinal), objects.Fired.Select(f => f.GrainId).Order(StringComparer.Ordinal));
        Assert.All(ids, id => Assert.Equal(1, objects.Wakes[id]));
    }

    [Fact]
    public async Task WakeFails_ClaimReleased_NextPollWakesAgain()
    {
        var objects = new ObjectsStandIn(_time);
        var a = await StartNodeAsync("node-a", objects);
        var b = await StartNodeAsync("node-b", objects);
        objects.Host = a.Scheduler;
        objects.SetAlarm("obj/1", _time.GetUtcNow().AddSeconds(1));
        await a.Index.WhenWrittenAsync("obj/1");
        a.Dispose();
        objects.Host = b.Scheduler;
        objects.BeforeWake = _ =>
        {
            objects.BeforeWake = null;
            throw new TimeoutException("the dead node is not yet declared dead");
        };
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(1, await b.Claimer.PollOnceAsync(CancellationToken.None));
        Assert.Empty(objects.Fired);
        _time.Advance(Options.PollInterval); // well inside the 30 s lease: released, not left to expire
        Assert.Equal(1, await b.Claimer.PollOnceAsync(CancellationToken.None));

        Assert.Single(objects.Fired);
    }

    [Fact]
    public async Task SharedIndex_ObjectReportsToAnotherNode_WakingNodeDropsItsEntry()
    {
        var objects = new ObjectsStandIn(_time);
        var a = await StartNodeAsync("node-a", objects);
        var b = await StartNodeAsync("node-b", objects);
        objects.Host = b.Scheduler;
        objects.SetAlarm("obj/1", _time.GetUtcNow().AddSeconds(1)); // the object lived on node-b
        await b.Index.WhenWrittenAsync("obj/1");
        objects.Host = a.Scheduler;
        objects.SetAlarm("obj/1", _time.GetUtcNow().AddHours(1)); // and now lives on node-a, where it moved its alarm
        await a.Index.WhenWrittenAsync("obj/1");

        _time.Advance(TimeSpan.FromSeconds(1)); // node-b wakes it; it reports to node-a
        Assert.Equal(0, b.Scheduler.PendingCount);
        _time.Advance(TimeSpan.FromMinutes(10)); // no re-delivery every lease from node-b

        Assert.Equal(1, objects.Wakes["obj/1"]);
        Assert.Equal(1, a.Scheduler.PendingCount);
    }

    private async Task AdvanceAndPollAsync(Node node, TimeSpan by)
    {
        for (var left = by; left > TimeSpan.Zero; left -= Options.PollInterval)
        {
            _time.Advance(left < Options.PollInterval ? left : Options.PollInterval);
            await node.Claimer.PollOnceAsync(CancellationToken.None);
            await node.Index.WhenWrittenAsync("obj/1");
        }
    }

    private async Task<Node> StartNodeAsync(string id, ObjectsStandIn objects)
    {
        var node = new Node(_database.OpenNode(), id, objects.Dispatcher, _time);
        _nodes.Add(node);
        await node.Scheduler.StartAsync(CancellationToken.None);
        await node.Claimer.StartAsync(CancellationToken.None);
        await node.Claimer.StopAsync(CancellationToken.None); // the tests poll by hand, on the fake clock
        return node;
    }

    private sealed class Node : IDisposable
    {
        private readonly SchedulingDatabase _database;
        private bool _disposed;

        public Node(SchedulingDatabase database, string id, IAlarmDispatcher dispatcher, TimeProvider time)
        {
            _database = database;
            Index = new PostgresAlarmIndex(database, id, time, NullLogger<PostgresAlarmIndex>.Instance);
            Scheduler = new AlarmScheduler(Index, dispatcher, time, NullLogger<AlarmScheduler>.Instance);
            Claimer = new AlarmClaimer(database, new SchedulingNode(id), dispatcher, Microsoft.Extensions.Options.Options.Create(Options), time, NullLogger<AlarmClaimer>.Instance);
        }

        public PostgresAlarmIndex Index { get; }

        public AlarmScheduler Scheduler { get; }

        public AlarmClaimer Claimer { get; }

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Claimer.Dispose();
            Scheduler.Dispose();
            Index.Dispose();
            _database.Dispose();
        }
    }
}
