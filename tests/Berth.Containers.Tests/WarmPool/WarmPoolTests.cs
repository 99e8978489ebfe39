using System.Collections.Concurrent;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Containers.Tests.WarmPool;

/// <summary>The warm pool's logic on a fake engine and a fake clock: refill, the max_instances bound, claims, drain, replacement, backoff.</summary>
public sealed class WarmPoolTests : IAsyncDisposable
{
    private const string ClassName = "Api";
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly PoolEngine _engine = new();
    private readonly ContainerLeaseRegistry _registry;
    private readonly string _data = Path.Combine(Path.GetTempPath(), "berth-warm-unit-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly Containers.WarmPool _pool;

    public WarmPoolTests()
    {
        _registry = new ContainerLeaseRegistry(_time);
        _pool = new Containers.WarmPool(_engine, new AlwaysOpenProbe(), _registry,
            new ContainerOptions { AppName = "shop", NodeId = "node-1" },
            new WarmPoolOptions { RetryDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(8) },
            new WarmPoolClaims(_data), _time, NullLogger<Containers.WarmPool>.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await _pool.DisposeAsync();
        BerthTestHost.TryDelete(_data);
    }

    private static ContainerClassOptions Class(int prewarmed = 2, int max = 5) =>
        new() { ClassName = ClassName, PrewarmedInstances = prewarmed, MaxInstances = max };

    private static ContainerSpec ObjectSpec(string objectId, string image = "api:1") => new()
    {
        Name = BerthNames.Container("shop", "node-1", ClassName, objectId),
        Image = image,
        Environment = new Dictionary<string, string> { ["BERTH_OBJECT_ID"] = objectId, ["BERTH_CLASS"] = ClassName },
        Labels = BerthNames.ForContainer("shop", "node-1", ClassName, objectId, image),
        Ports = [8080],
        Network = "berth-shop-internal",
    };

    private Task WaitReadyAsync(int count) =>
        Eventually.ValueAsync(() => Task.FromResult(_pool.ReadyCount(ClassName)), n => n == count, $"{count} ready prewarmed containers", Within);

    [Fact]
    public async Task TryClaim_FirstStartOfClass_MissesThenPoolFillsToTarget()
    {
        var options = Class(prewarmed: 2);
        // The object reserved its own slot before it asks.
        Assert.True(_registry.TryReserveInstance(ClassName, options.MaxInstances));

        Assert.Null(await _pool.TryClaimAsync(options, ObjectSpec("a"), "a", null, CancellationToken.None));

        await WaitReadyAsync(2);
        Assert.Equal(3, _registry.RunningCount(ClassName));
        Assert.All(_engine.Created, spec =>
        {
            Assert.False(spec.Environment.ContainsKey("BERTH_OBJECT_ID"));
            Assert.False(spec.Labels.ContainsKey(BerthLabels.ObjectId));
            Assert.Equal("1", spec.Labels[BerthLabels.WarmPool]);
            Assert.Equal(Containers.WarmPool.IdentityMountPath, Assert.Single(spec.BindMounts).ContainerPath);
        });
        Assert.All(_pool.ReadyIds(ClassName), id => Assert.Equal(["start", "pause"], _engine.ActionsOf(id)));
    }

    [Fact]
    public async Task Refill_AtMaxInstances_NeverExceedsIt()
    {
        var options = Class(prewarmed: 3, max: 3);
        Assert.True(_registry.TryReserveInstance(ClassName, options.MaxInstances));
        Assert.True(_registry.TryReserveInstance(ClassName, options.MaxInstances));

        Assert.Null(await _pool.TryClaimAsync(options, ObjectSpec("a"), "a", null, CancellationToken.None));

        await WaitReadyAsync(1);
        Assert.Equal(3, _registry.RunningCount(ClassName));
        Assert.Single(_engine.Created);
    }

    [Fact]
    public async Task TryClaim_MatchingSpec_UnpausesWritesIdentityRecordsClaimAndRefills()
    {
        var options = Class(prewarmed: 1);
        Assert.True(_registry.TryReserveInstance(ClassName, options.MaxInstances));
        await _pool.TryClaimAsync(options, ObjectSpec("a"), "a", null, CancellationToken.None);
        await WaitReadyAsync(1);
        var pooled = Assert.Single(_pool.ReadyIds(ClassName));
        Assert.True(_registry.TryReserveInstance(ClassName, options.MaxInstances));

        var claimed = await _pool.TryClaimAsync(options, ObjectSpec("b"), "b", "bob", CancellationToken.None);

        Assert.Equal(pooled, claimed);
        Assert.Equal(["start", "pause", "unpause"], _engine.ActionsOf(pooled));
        Assert.Equal((ClassName, "b"), _pool.Claims.OwnerOf(pooled));
        var mount = _engine.SpecOf(pooled).BindMounts[0].HostPath;
        Assert.Equal("b\n", await File.ReadAllTextAsync(Path.Combine(mount, "object-id")));
        Assert.Equal("bob\n", await File.ReadAllTextAsync(Path.Combine(mount, "object-name")));
        // a's and b's own slots plus the refilled one; the claimed container's pool slot went back.
        await WaitReadyAsync(1);
        Assert.NotEqual(pooled, Assert.Single(_pool.ReadyIds(ClassName)));
        Assert.Equal(3, _registry.RunningCount(ClassName));
    }

    [Fact]
    public async Task TryClaim_SameContainerTwice_NeverHandsItToTwoObjects()
    {
        var options = Class(prewarmed: 1, max: 3);
        await _pool.TryClaimAsync(options, ObjectSpec("a"), "a", null, CancellationToken.None);
        await WaitReadyAsync(1);
        _engine.HoldCreates = true;

        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => _pool.TryClaimAsync(options, ObjectSpec($"o{i}"), $"o{i}", null, CancellationToken.None))));

        Assert.Single(claims, c => c is not null);
    }

    [Fact]
    public async Task TryClaim_NewImage_DrainsPoolAndRefillsWithIt()
    {
        var options = Class(prewarmed: 2);
        await _pool.TryClaimAsync(options, ObjectSpec("a", "api:1"), "a", null, CancellationToken.None);
        await WaitReadyAsync(2);
        var old = _pool.ReadyIds(ClassName);

        Assert.Null(await _pool.TryClaimAsync(options, ObjectSpec("b", "api:2"), "b", null, CancellationToken.None));

        await Eventually.ValueAsync(() => Task.FromResult(_pool.ReadyIds(ClassName)), ids => ids.Count == 2 && !ids.Intersect(old).Any(), "the pool refilled with api:2", Within);
        Assert.All(old, id => Assert.Contains("remove", _engine.ActionsOf(id)));
        Assert.All(_pool.ReadyIds(ClassName), id => Assert.Equal("api:2", _engine.SpecOf(id).Image));
        Assert.Equal(2, _registry.RunningCount(ClassName));
    }

    [Fact]
    public async Task PooledContainer_Exits_IsRemovedAndReplaced()
    {
        var options = Class(prewarmed: 1);
        await _pool.TryClaimAsync(options, ObjectSpec("a"), "a", null, CancellationToken.None);
        await WaitReadyAsync(1);
        var dead = Assert.Single(_pool.ReadyIds(ClassName));

        _engine.Kill(dead, exitCode: 137, oomKilled: true);

        await Eventually.ValueAsync(() => Task.FromResult(_pool.ReadyIds(ClassName)), ids => ids.Count == 1 && ids[0] != dead, "a replacement", Within);
        Assert.Contains("remove", _engine.ActionsOf(dead));
        Assert.Equal(1, _registry.RunningCount(ClassName));
    }

    [Fact]
    public async Task Refill_CreateFails_RetriesOnlyAfterTheBackoffOnTheClock()
    {
        var options = Class(prewarmed: 1);
        _engine.FailCreates = true;
        await _pool.TryClaimAsync(options, ObjectSpec("a"), "a", null, CancellationToken.None);
        await Eventually.ValueAsync(() => Task.FromResult(_engine.CreateAttempts), n => n == 1, "the first attempt", Within);
        await Eventually.ValueAsync(() => Task.FromResult(_registry.RunningCount(ClassName)), n => n == 0, "the failed slot released", Within);

        _time.Advance(TimeSpan.FromMilliseconds(900));
        await Task.Yield();
        Assert.Equal(1, _engine.CreateAttempts);

        _engine.FailCreates = false;
        _time.Advance(TimeSpan.FromMilliseconds(100));
        await WaitReadyAsync(1);
        Assert.Equal(2, _engine.CreateAttempts);
    }

    [Fact]
    public async Task TryTakeSlot_AtCapacity_RemovesOnePooledContainerAndHandsOverItsSlot()
    {
        var options = Class(prewarmed: 2, max: 2);
        await _pool.TryClaimAsync(options, ObjectSpec("a"), "a", null, CancellationToken.None);
        await WaitReadyAsync(2);
        Assert.False(_registry.TryReserveInstance(ClassName, options.MaxInstances));

        Assert.True(await _pool.TryTakeSlotAsync(ClassName, CancellationToken.None));

        Assert.Equal(1, _pool.ReadyCount(ClassName));
        Assert.Equal(2, _registry.RunningCount(ClassName));
    }

    [Fact]
    public void Fingerprint_DiffersOnlyInIdentity_IsEqual()
    {
        Assert.Equal(Containers.WarmPool.Fingerprint(ObjectSpec("a")), Containers.WarmPool.Fingerprint(ObjectSpec("b")));
        Assert.NotEqual(Containers.WarmPool.Fingerprint(ObjectSpec("a")), Containers.WarmPool.Fingerprint(ObjectSpec("a", "api:2")));
        Assert.NotEqual(Containers.WarmPool.Fingerprint(ObjectSpec("a")),
            Containers.WarmPool.Fingerprint(ObjectSpec("a") with { Environment = new Dictionary<string, string> { ["BERTH_OBJECT_ID"] = "a", ["MODE"] = "x" } }));
    }

    [Theory]
    [InlineData(2, 0, 0, 1, 20, 2)]
    [InlineData(2, 1, 0, 2, 20, 1)]
    [InlineData(2, 1, 1, 3, 20, 0)]
    [InlineData(5, 0, 0, 18, 20, 2)]
    [InlineData(5, 0, 0, 20, 20, 0)]
    [InlineData(0, 0, 0, 0, 20, 0)]
    public void ToCreate_TargetReadyCreatingCountedMax_IsLackBoundedByRoom(int target, int ready, int creating, int counted, int max, int expected) =>
        Assert.Equal(expected, WarmPoolPlan.ToCreate(target, ready, creating, counted, max));

    [Fact]
    public void Backoff_FailuresInARow_DoublesUpToMax()
    {
        var initial = TimeSpan.FromSeconds(1);
        var max = TimeSpan.FromSeconds(5);
        Assert.Equal([TimeSpan.Zero, initial, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), max, max],
            Enumerable.Range(0, 6).Select(n => WarmPoolPlan.Backoff(n, initial, max)).ToArray());
    }

    [Fact]
    public void Validate_PrewarmedAboveMaxInstances_FailsNamingTheField()
    {
        var result = new ContainerClassOptionsValidator().Validate(ClassName, Class(prewarmed: 4, max: 3));

        Assert.True(result.Failed);
        Assert.Contains("containers[Api].prewarmed_instances: '4' is not allowed; use at most max_instances (3)", result.FailureMessage, StringComparison.Ordinal);
    }

    private sealed class AlwaysOpenProbe : IContainerProbe
    {
        public Task<bool> CanConnectAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken) => Task.FromResult(true);

        public Task<bool> PingAsync(string host, int port, string path, TimeSpan timeout, CancellationToken cancellationToken) => Task.FromResult(true);
    }

    /// <summary>An engine that keeps what the pool asks of it: specs, the actions on each container, exits on demand.</summary>
    private sealed class PoolEngine : IContainerOperations
    {
        private readonly ConcurrentDictionary<string, (ContainerSpec Spec, TaskCompletionSource<ContainerExit> Exit, List<string> Actions)> _containers = new();
        private int _attempts;

        public bool FailCreates { get; set; }

        /// <summary>Creations wait forever (a pool that cannot refill during the test).</summary>
        public bool HoldCreates { get; set; }

        public int CreateAttempts => Volatile.Read(ref _attempts);

        public IReadOnlyList<ContainerSpec> Created => _containers.Values.Select(c => c.Spec).ToArray();

        public ContainerSpec SpecOf(string id) => _containers[id].Spec;

        public IReadOnlyList<string> ActionsOf(string id)
        {
            var actions = _containers[id].Actions;
            lock (actions)
            {
                return actions.ToArray();
            }
        }

        public void Kill(string id, int exitCode, bool oomKilled) => _containers[id].Exit.TrySetResult(new ContainerExit(exitCode, oomKilled));

        public async Task<string> CreateAsync(ContainerSpec spec, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _attempts);
            if (HoldCreates)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            if (FailCreates)
            {
                throw new ContainerRuntimeException(ContainerRuntimeError.ImageNotFound, "no such image");
            }

            var id = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
            _containers[id] = (spec, new TaskCompletionSource<ContainerExit>(TaskCreationOptions.RunContinuationsAsynchronously), []);
            return id;
        }

        private void Record(string id, string action)
        {
            if (!_containers.TryGetValue(id, out var container))
            {
                throw new ContainerRuntimeException(ContainerRuntimeError.ContainerNotFound, $"no such container {id}");
            }

            lock (container.Actions)
            {
                container.Actions.Add(action);
            }
        }

        public Task StartAsync(string containerId, CancellationToken cancellationToken = default)
        {
            Record(containerId, "start");
            return Task.CompletedTask;
        }

        public Task PauseAsync(string containerId, CancellationToken cancellationToken = default)
        {
            Record(containerId, "pause");
            return Task.CompletedTask;
        }

        public Task UnpauseAsync(string containerId, CancellationToken cancellationToken = default)
        {
            Record(containerId, "unpause");
            return Task.CompletedTask;
        }

        public Task<ContainerInspection?> InspectAsync(string containerId, CancellationToken cancellationToken = default) =>
            Task.FromResult<ContainerInspection?>(_containers.TryGetValue(containerId, out var c)
                ? new ContainerInspection
                {
                    Id = containerId,
                    Name = c.Spec.Name,
                    Image = c.Spec.Image,
                    State = c.Exit.Task.IsCompleted ? EngineContainerState.Exited : EngineContainerState.Running,
                    IpAddress = "10.0.0.2",
                }
                : null);

        public Task<ContainerExit> WaitForExitAsync(string containerId, CancellationToken cancellationToken = default) =>
            _containers.TryGetValue(containerId, out var c)
                ? c.Exit.Task.WaitAsync(cancellationToken)
                : Task.FromException<ContainerExit>(new ContainerRuntimeException(ContainerRuntimeError.ContainerNotFound, containerId));

        public Task RemoveAsync(string containerId, CancellationToken cancellationToken = default)
        {
            if (_containers.TryGetValue(containerId, out var c))
            {
                Record(containerId, "remove");
                c.Exit.TrySetResult(new ContainerExit(137, false));
            }

            return Task.CompletedTask;
        }

        public Task SignalAsync(string containerId, ContainerSignal signal, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<ContainerExit> StopAsync(string containerId, StopOptions options, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<ContainerSummary>> ListAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }
}
