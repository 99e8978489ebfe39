using Berth.Containers;

namespace Berth.Testing;

/// <summary>
/// An <see cref="IClassVersionStore"/> in memory, for tests of rollouts (the node's own is SQLite, in Berth.Hosting). Numbers
/// are monotonic per class; thread-safe. Give the same instance to a restarted host to keep the versions across the restart.
/// </summary>
public sealed class InMemoryClassVersionStore(TimeProvider? timeProvider = null) : IClassVersionStore
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<ClassVersion>> _versions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ClassTraffic> _traffic = new(StringComparer.Ordinal);
    private readonly List<ClassTraffic> _history = [];
    /// <summary>Every traffic set, in order.</summary>
    public IReadOnlyList<ClassTraffic> TrafficHistory
    {
        get
        {
            lock (_gate)
            {
                return [.. _history];
            }
        }
    }

    /// <inheritdoc />
    public Task<ClassVersion> RecordAsync(string className, string image, string? digest, string configHash, string trigger, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_versions.TryGetValue(className, out var list))
            {
                _versions[className] = list = [];
            }

            var version = new ClassVersion(className, list.Count + 1, image, digest, configHash, _time.GetUtcNow(), trigger);
            list.Add(version);
            return Task.FromResult(version);
        }
    }

    /// <inheritdoc />
    public Task<ClassVersion?> GetAsync(string className, int number, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_versions.TryGetValue(className, out var list) ? list.FirstOrDefault(v => v.Number == number) : null);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ClassVersion>> ListAsync(string className, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<ClassVersion>>(_versions.TryGetValue(className, out var list) ? list.AsEnumerable().Reverse().ToList() : []);
        }
    }

    /// <inheritdoc />
    public Task<ClassTraffic?> GetTrafficAsync(string className, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_traffic.GetValueOrDefault(className));
        }
    }

    /// <inheritdoc />
    public Task SetTrafficAsync(ClassTraffic traffic, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(traffic);
        lock (_gate)
        {
            var list = _versions.GetValueOrDefault(traffic.ClassName) ?? [];
            if (list.All(v => v.Number != traffic.Current) || traffic.Candidate is { } candidate && list.All(v => v.Number != candidate))
            {
                throw new ArgumentException($"Class '{traffic.ClassName}': a version in the traffic was never recorded.", nameof(traffic));
            }

            if (traffic.CandidatePercent is < 0 or > 100)
            {
                throw new ArgumentException($"Class '{traffic.ClassName}': percent {traffic.CandidatePercent} is outside 0-100.", nameof(traffic));
            }

            _traffic[traffic.ClassName] = traffic;
            _history.Add(traffic);
            return Task.CompletedTask;
        }
    }
}
