using System.Runtime.CompilerServices;
using System.Text;
using Berth.Runtime;

namespace Berth.Hosting.Tests.Support;

/// <summary>An in-memory <see cref="IContainerRuntime"/> for logic tests: containers, logs and images are plain collections.</summary>
public sealed class FakeContainerRuntime : IContainerRuntime
{
    private readonly Lock _gate = new();

    public List<ContainerSummary> Containers { get; } = [];

    public Dictionary<string, List<string>> Logs { get; } = [];

    public Dictionary<string, ImageInfo> Images { get; } = [];

    public List<ImageBuildSpec> Builds { get; } = [];

    public List<(string ContainerId, StopOptions Options)> Stops { get; } = [];

    public List<(string ContainerId, IReadOnlyList<string> Command)> Execs { get; } = [];

    /// <summary>Adds a Berth-managed container of <paramref name="app"/>.</summary>
    public ContainerSummary AddContainer(string app, string className, string objectId, ContainerRunState state = ContainerRunState.Running,
        DateTimeOffset? created = null, string? id = null)
    {
        var container = new ContainerSummary(
            id ?? Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()),
            $"berth-{app}-{className}-{objectId}",
            $"berth-{app}-{className.ToLowerInvariant()}:abc123",
            state,
            new Dictionary<string, string>
            {
                [BerthLabels.Managed] = "1",
                [BerthLabels.App] = app,
                [BerthLabels.Class] = className,
                [BerthLabels.ObjectId] = objectId,
                [BerthLabels.Version] = "abc123",
            },
            created ?? new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero));
        lock (_gate)
        {
            Containers.Add(container);
        }

        return container;
    }

    public Task<IReadOnlyList<ContainerSummary>> ListAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<ContainerSummary>>(Containers
                .Where(c => labels.All(l => c.Labels.TryGetValue(l.Key, out var v) && (l.Value == "*" || v == l.Value)))
                .ToList());
        }
    }

    public async IAsyncEnumerable<LogLine> GetLogsAsync(string containerId, LogOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var lines = Logs.TryGetValue(containerId, out var all) ? all : [];
        foreach (var line in options.Tail is { } tail ? lines.TakeLast(tail) : lines)
        {
            yield return new LogLine(LogStream.Stdout, line, null);
        }

        if (options.Follow)
        {
            // A followed container that writes nothing more: wait until the caller goes away.
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    public async Task<long> ExecAsync(string containerId, ExecSpec spec, ExecStreams streams, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Execs.Add((containerId, spec.Command));
        }

        // Behaves like `sh -c 'echo ...; exit N'` for the commands the tests send.
        var text = string.Join(' ', spec.Command);
        await streams.Stdout!.WriteAsync(Encoding.UTF8.GetBytes($"ran: {text}\n"), cancellationToken);
        if (spec.Command[0] == "fail")
        {
            await streams.Stderr!.WriteAsync("failed on purpose\n"u8.ToArray(), cancellationToken);
            return 3;
        }

        return 0;
    }

    public Task<ContainerExit> StopAsync(string containerId, StopOptions options, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Stops.Add((containerId, options));
            var index = Containers.FindIndex(c => c.Id == containerId);
            Containers[index] = Containers[index] with { State = ContainerRunState.Exited };
        }

        return Task.FromResult(new ContainerExit(143, OomKilled: false));
    }

    public Task<ImageInfo?> InspectImageAsync(string reference, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(Images.GetValueOrDefault(reference));
        }
    }

    public Task<ImageInfo> BuildImageAsync(ImageBuildSpec spec, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        progress?.Report("Step 1/1 : FROM scratch");
        var image = new ImageInfo("sha256:" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), spec.Tags, spec.Labels, 1234);
        lock (_gate)
        {
            Builds.Add(spec);
            foreach (var tag in spec.Tags)
            {
                Images[tag] = image;
            }
        }

        return Task.FromResult(image);
    }

    public Task PingAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<string> CreateAsync(ContainerSpec spec, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task StartAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ContainerStatus?> InspectAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ContainerExit> WaitForExitAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task SignalAsync(string containerId, string signal, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task RemoveAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ContainerStats> GetStatsAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<string> EnsureNetworkAsync(NetworkSpec spec, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IReadOnlyList<NetworkInfo>> ListNetworksAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task RemoveNetworkAsync(string networkId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ImageInfo> ImportImageAsync(Stream rootfsTar, string reference, IReadOnlyDictionary<string, string>? labels = null,
        CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IReadOnlyList<ImageInfo>> ListImagesAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<ImageInfo> matching = Images.Values.Distinct()
                .Where(i => labels.All(l => i.Labels.TryGetValue(l.Key, out var v) && (l.Value == "*" || v == l.Value)))
                .ToList();
            return Task.FromResult(matching);
        }
    }

    public Task RemoveImageAsync(string reference, bool force = false, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            foreach (var tag in Images.Where(i => i.Key == reference || i.Value.Id == reference).Select(i => i.Key).ToList())
            {
                Images.Remove(tag);
            }
        }

        return Task.CompletedTask;
    }
}
