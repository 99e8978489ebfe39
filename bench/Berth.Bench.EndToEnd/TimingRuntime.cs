using System.Collections.Concurrent;
using System.Diagnostics;
using Berth.Runtime;

namespace Berth.Bench.EndToEnd;

/// <summary>One engine call the platform made: what, for which container (by name), when it began and ended.</summary>
internal sealed record EngineCall(string Operation, string Container, long Begin, long End)
{
    public double Ms => Stopwatch.GetElapsedTime(Begin, End).TotalMilliseconds;
}

/// <summary>
/// Wraps the platform's <see cref="IContainerRuntime"/> and records the timing of the calls a cold start makes
/// (remove-by-name, create, start, inspect), keyed by container name, so a cold start can be split into engine
/// time and platform time without touching the platform's code. Costs two timestamps per call.
/// </summary>
internal sealed class TimingRuntime(IContainerRuntime inner) : IContainerRuntime
{
    private readonly ConcurrentDictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<EngineCall> _calls = new();

    public IContainerRuntime Inner => inner;

    public IReadOnlyList<EngineCall> CallsFor(string containerName) =>
        _calls.Where(c => c.Container == containerName).OrderBy(c => c.Begin).ToList();

    public IEnumerable<string> AllNames() => _calls.Select(c => c.Operation + ":" + c.Container).Distinct();

    public void Clear() => _calls.Clear();

    private string NameOf(string idOrName) => _names.TryGetValue(idOrName, out var name) ? name : idOrName;

    private async Task<T> TimeAsync<T>(string operation, string container, Func<Task<T>> call)
    {
        var begin = Stopwatch.GetTimestamp();
        try
        {
            return await call();
        }
        finally
        {
            _calls.Enqueue(new EngineCall(operation, NameOf(container), begin, Stopwatch.GetTimestamp()));
        }
    }

    private async Task TimeAsync(string operation, string container, Func<Task> call)
    {
        var begin = Stopwatch.GetTimestamp();
        try
        {
            await call();
        }
        finally
        {
            _calls.Enqueue(new EngineCall(operation, NameOf(container), begin, Stopwatch.GetTimestamp()));
        }
    }

    public Task PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);

    public Task<string> CreateAsync(ContainerSpec spec, CancellationToken cancellationToken = default) =>
        TimeAsync("create", spec.Name, async () =>
        {
            var id = await inner.CreateAsync(spec, cancellationToken);
            _names[id] = spec.Name;
            return id;
        });

    public Task StartAsync(string containerId, CancellationToken cancellationToken = default) =>
        TimeAsync("start", containerId, () => inner.StartAsync(containerId, cancellationToken));

    public Task<ContainerInspection?> InspectAsync(string containerId, CancellationToken cancellationToken = default) =>
        TimeAsync("inspect", containerId, () => inner.InspectAsync(containerId, cancellationToken));

    public Task PauseAsync(string containerId, CancellationToken cancellationToken = default) =>
        TimeAsync("pause", containerId, () => inner.PauseAsync(containerId, cancellationToken));

    public Task UnpauseAsync(string containerId, CancellationToken cancellationToken = default) =>
        TimeAsync("unpause", containerId, () => inner.UnpauseAsync(containerId, cancellationToken));

    public Task<ContainerExit> WaitForExitAsync(string containerId, CancellationToken cancellationToken = default) =>
        inner.WaitForExitAsync(containerId, cancellationToken);

    public Task SignalAsync(string containerId, ContainerSignal signal, CancellationToken cancellationToken = default) =>
        inner.SignalAsync(containerId, signal, cancellationToken);

    public Task<ContainerExit> StopAsync(string containerId, StopOptions options, CancellationToken cancellationToken = default) =>
        TimeAsync("stop", containerId, () => inner.StopAsync(containerId, options, cancellationToken));

    public Task RemoveAsync(string containerId, CancellationToken cancellationToken = default) =>
        TimeAsync("remove", containerId, () => inner.RemoveAsync(containerId, cancellationToken));

    public Task<int> ExecAsync(string containerId, ExecSpec spec, ExecStreams streams, CancellationToken cancellationToken = default) =>
        inner.ExecAsync(containerId, spec, streams, cancellationToken);

    public IAsyncEnumerable<LogLine> GetLogsAsync(string containerId, LogOptions options, CancellationToken cancellationToken = default) =>
        inner.GetLogsAsync(containerId, options, cancellationToken);

    public Task<ContainerStats> GetStatsAsync(string containerId, CancellationToken cancellationToken = default) =>
        inner.GetStatsAsync(containerId, cancellationToken);

    public Task<IReadOnlyList<ContainerSummary>> ListAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default) =>
        inner.ListAsync(labels, cancellationToken);

    public Task<string> EnsureNetworkAsync(NetworkSpec spec, CancellationToken cancellationToken = default) =>
        TimeAsync("network", spec.Name, () => inner.EnsureNetworkAsync(spec, cancellationToken));

    public Task<IReadOnlyList<NetworkInfo>> ListNetworksAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default) =>
        inner.ListNetworksAsync(labels, cancellationToken);

    public Task RemoveNetworkAsync(string networkId, CancellationToken cancellationToken = default) =>
        inner.RemoveNetworkAsync(networkId, cancellationToken);

    public Task<ImageInfo> BuildImageAsync(ImageBuildSpec spec, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        inner.BuildImageAsync(spec, progress, cancellationToken);

    public Task<ImageInfo> ImportImageAsync(Stream rootfsTar, string reference, IReadOnlyDictionary<string, string>? labels = null, CancellationToken cancellationToken = default) =>
        inner.ImportImageAsync(rootfsTar, reference, labels, cancellationToken);

    public Task<ImageInfo?> InspectImageAsync(string reference, CancellationToken cancellationToken = default) =>
        inner.InspectImageAsync(reference, cancellationToken);

    public Task<IReadOnlyList<ImageInfo>> ListImagesAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default) =>
        inner.ListImagesAsync(labels, cancellationToken);

    public Task RemoveImageAsync(string reference, bool force = false, CancellationToken cancellationToken = default) =>
        inner.RemoveImageAsync(reference, force, cancellationToken);
}
