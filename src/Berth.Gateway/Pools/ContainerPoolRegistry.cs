using System.Collections.Concurrent;
using Berth.Containers;
using Berth.Objects;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Gateway.Pools;

/// <summary>
/// The node's pools, one per container class, made on first use. When the host starts it starts the pools of the classes
/// whose <c>minimum_instances</c> is above zero, so their instances run before the first request; when it stops, it stops
/// every pool's autoscaler.
/// </summary>
public sealed class ContainerPoolRegistry : IHostedService, IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly ContainerClassRegistry? _classes;
    private readonly ContainerLeaseRegistry _leases;
    private readonly ContainerForwarder _forwarder;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ContainerPool> _logger;
    private readonly ConcurrentDictionary<string, Lazy<ContainerPool>> _pools = new(StringComparer.Ordinal);

    /// <summary>Creates the registry. A gateway without container classes (no <c>AddBerthContainers</c>) gets an empty one.</summary>
    public ContainerPoolRegistry(IServiceProvider services, ContainerLeaseRegistry leases,
        ContainerForwarder forwarder, TimeProvider timeProvider, ILogger<ContainerPool> logger)
    {
        ArgumentNullException.ThrowIfNull(services);
        _services = services;
        _classes = services.GetService<ContainerClassRegistry>();
        _leases = leases;
        _forwarder = forwarder;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>The pool of a class, made (and its autoscaler started) on first use.</summary>
    /// <exception cref="InvalidOperationException">No container class has this name.</exception>
    public ContainerPool Get(string className)
    {
        var pool = _pools.GetOrAdd(className, name => new Lazy<ContainerPool>(() => Create(name))).Value;
        pool.EnsureRunning();
        return pool;
    }

    /// <summary>The pools made so far on this node (for metrics: <see cref="ContainerPool.QueuedRequests"/>); a snapshot, never blocks.</summary>
    public IEnumerable<ContainerPool> Created => _pools.Values.Where(pool => pool.IsValueCreated).Select(pool => pool.Value);

    /// <summary>Starts the pools of the classes with <c>minimum_instances</c> above zero.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var containerClass in _classes?.Classes ?? [])
        {
            if (containerClass.Options.Pool.MinimumInstances > 0)
            {
                Get(containerClass.Options.ClassName);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Stops every pool's autoscaler; running instances are left to the host's own shutdown.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var pool in _pools.Values)
        {
            if (pool.IsValueCreated)
            {
                await pool.Value.DisposeAsync().AsTask().WaitAsync(cancellationToken);
            }
        }
    }

    /// <summary>Stops every pool's autoscaler.</summary>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    private ContainerPool Create(string className)
    {
        var containerClass = (_classes ?? throw new InvalidOperationException($"Container class '{className}' is not registered: no container classes (AddBerthContainers) on this host."))
            .Get(className);
        var objects = _services.GetRequiredKeyedService<DurableObjectNamespace<IContainer>>(className);
        var options = containerClass.Options;
        return new ContainerPool(className, options.MaxInstances, options.Pool,
            index =>
            {
                var id = objects.IdFromName(RandomInstanceNames.Get(index));
                return new ContainerStub(className, id, objects.Get(id), _forwarder, options.MaxRequestBodySize);
            },
            _leases, _services.GetService<Berth.Runtime.IContainerExecOperations>(), _timeProvider, _logger);
    }
}
