using System.Runtime.CompilerServices;
using System.Text;
using Berth.Runtime;

namespace Berth.Testing;

/// <summary>
/// An in-memory <see cref="IContainerRuntime"/> for logic tests: containers, logs and images are plain collections. It
/// drives lifecycles on a (fake) clock: created containers start, their ports open after <see cref="PortDelay"/>, and
/// they exit with a code or an OOM kill when a test says so (<see cref="Exit"/>) or at once (<see cref="ExitOnStart"/>).
/// </summary>
public sealed class FakeContainerRuntime(TimeProvider? timeProvider = null) : IContainerRuntime
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly Dictionary<string, Lifecycle> _lives = new(StringComparer.Ordinal);
    private int _created;

    /// <summary>Time after a start until the container's ports accept connections; <see langword="null"/> for never.</summary>
    /// <value>Defaults to zero (at once).</value>
    public TimeSpan? PortDelay { get; set; } = TimeSpan.Zero;

    /// <summary>How long a create takes on the clock, as an engine call would; zero completes at once (no await gap for callers to interleave in).</summary>
    public TimeSpan CreateDelay { get; set; } = TimeSpan.Zero;

    /// <summary>When set, every started container exits at once with this code (after writing <see cref="OutputOnStart"/>).</summary>
    public int? ExitOnStart { get; set; }

    /// <summary>When set, <see cref="StartAsync"/> fails with this message as the engine does for a container it created but cannot run (an OCI runtime error).</summary>
    public string? StartFailure { get; set; }

    /// <summary>Lines a container writes when it starts.</summary>
    public IReadOnlyList<string> OutputOnStart { get; set; } = [];

    /// <summary>When true, <see cref="InspectAsync"/> keeps reporting an exited container as running (the engine's lag after an OOM kill).</summary>
    public bool InspectLagsExit { get; set; }

    /// <summary>Number of containers created so far.</summary>
    public int CreatedCount
    {
        get
        {
            lock (_gate)
            {
                return _created;
            }
        }
    }

    /// <summary>Specs of every container created, in order.</summary>
    public List<ContainerSpec> Specs { get; } = [];

    /// <summary>Containers that run now.</summary>
    public int RunningCount
    {
        get
        {
            lock (_gate)
            {
                return Containers.Count(c => c.State == EngineContainerState.Running);
            }
        }
    }

    /// <summary>IDs of containers that run now.</summary>
    public IReadOnlyList<string> RunningIds
    {
        get
        {
            lock (_gate)
            {
                return Containers.Where(c => c.State == EngineContainerState.Running).Select(c => c.Id).ToList();
            }
        }
    }

    /// <summary>Whether the container at <paramref name="host"/> runs and listens on <paramref name="port"/> now (for a fake probe).</summary>
    public bool IsListening(string host, int port)
    {
        lock (_gate)
        {
            var life = _lives.Values.FirstOrDefault(l => l.Address == host);
            return life is { Exit: null, ListenAt: { } at } && _time.GetUtcNow() >= at && life.Spec.Ports.Contains(port);
        }
    }

    /// <summary>Makes a running container exit with <paramref name="exitCode"/> (an OOM kill when <paramref name="oomKilled"/>).</summary>
    public void Exit(string containerId, int exitCode, bool oomKilled = false)
    {
        TaskCompletionSource<ContainerExit>? signal;
        lock (_gate)
        {
            signal = ExitLocked(containerId, new ContainerExit(exitCode, oomKilled));
        }

        signal?.TrySetResult(new ContainerExit(exitCode, oomKilled));
    }

    private TaskCompletionSource<ContainerExit>? ExitLocked(string containerId, ContainerExit exit)
    {
        if (!_lives.TryGetValue(containerId, out var life) || life.Exit is not null)
        {
            return null;
        }

        life.Exit = exit;
        var index = Containers.FindIndex(c => c.Id == containerId);
        if (index >= 0)
        {
            Containers[index] = Containers[index] with { State = EngineContainerState.Exited };
        }

        return life.Exited;
    }

    private sealed class Lifecycle(ContainerSpec spec, string address)
    {
        public ContainerSpec Spec { get; } = spec;

        public string Address { get; } = address;

        public DateTimeOffset? ListenAt { get; set; }

        public bool Started { get; set; }

        public ContainerExit? Exit { get; set; }

        public TaskCompletionSource<ContainerExit> Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public List<ContainerSummary> Containers { get; } = [];

    public Dictionary<string, List<string>> Logs { get; } = [];

    /// <summary>Log lines with stream and time, per container ID; when a container has some, they are served instead of <see cref="Logs"/>.</summary>
    public Dictionary<string, List<LogLine>> LogLines { get; } = [];

    /// <summary>The options of every log request, in order.</summary>
    public List<LogOptions> LogRequests { get; } = [];

    public Dictionary<string, ImageInfo> Images { get; } = [];

    public List<ImageBuildSpec> Builds { get; } = [];

    /// <summary>What removing an image by one of these references throws, as the engine may (in use, malformed reference…).</summary>
    public Dictionary<string, ContainerRuntimeException> ImageRemovalErrors { get; } = [];

    public List<(string ContainerId, StopOptions Options)> Stops { get; } = [];

    public List<(string ContainerId, IReadOnlyList<string> Command)> Execs { get; } = [];

    /// <summary>The node ID <see cref="AddContainer"/> labels containers with unless told otherwise.</summary>
    public const string DefaultNodeId = "node-1";

    /// <summary>Adds a Berth-managed container of <paramref name="app"/>, left by node <paramref name="nodeId"/>.</summary>
    public ContainerSummary AddContainer(string app, string className, string objectId, EngineContainerState state = EngineContainerState.Running,
        DateTimeOffset? created = null, string? id = null, string nodeId = DefaultNodeId)
    {
        var image = BerthNames.ImageRepository(app, className) + ":abc123";
        var container = new ContainerSummary(
            id ?? Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()),
            BerthNames.Container(app, nodeId, className, objectId),
            image,
            state,
            BerthNames.ForContainer(app, nodeId, className, objectId, image),
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
        lock (_gate)
        {
            LogRequests.Add(options);
        }

        // Like the engine: since first, then tail.
        var lines = LogLines.TryGetValue(containerId, out var entries)
            ? entries.Where(l => options.Since is not { } since || l.Timestamp is not { } time || time >= since).ToList()
            : (Logs.TryGetValue(containerId, out var all) ? all : []).Select(text => new LogLine(LogStream.Stdout, text, null)).ToList();
        foreach (var line in options.Tail is { } tail ? lines.TakeLast(tail) : lines)
        {
            yield return line;
        }

        if (options.Follow)
        {
            // A followed container that writes nothing more: wait until the caller goes away.
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    public async Task<int> ExecAsync(string containerId, ExecSpec spec, ExecStreams streams, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Execs.Add((containerId, spec.Command));
        }

        // Behaves like `sh -c 'echo ...; exit N'` for the commands the tests send; `hang` runs until cancelled.
        var text = string.Join(' ', spec.Command);
        await streams.Stdout!.WriteAsync(Encoding.UTF8.GetBytes($"ran: {text}\n"), cancellationToken);
        if (spec.Command[0] == "hang")
        {
            // A command that runs until it is cancelled (an interactive shell).
            await streams.Stdout!.FlushAsync(cancellationToken);
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        }

        if (spec.Command[0] == "fail")
        {
            await streams.Stderr!.WriteAsync("failed on purpose\n"u8.ToArray(), cancellationToken);
            return 3;
        }

        return 0;
    }

    public Task<ContainerExit> StopAsync(string containerId, StopOptions options, CancellationToken cancellationToken = default)
    {
        TaskCompletionSource<ContainerExit>? signal;
        lock (_gate)
        {
            Stops.Add((containerId, options));
            var index = Containers.FindIndex(c => c.Id == containerId);
            if (index < 0)
            {
                throw new ContainerRuntimeException(ContainerRuntimeError.ContainerNotFound, $"No such container: {containerId}");
            }

            Containers[index] = Containers[index] with { State = EngineContainerState.Exited };
            signal = _lives.ContainsKey(containerId) ? ExitLocked(containerId, new ContainerExit(143, false)) : null;
        }

        signal?.TrySetResult(new ContainerExit(143, false));
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

    public Task PingAsync(CancellationToken cancellationToken = default) => OnPing?.Invoke(cancellationToken) ?? Task.CompletedTask;

    /// <summary>What <see cref="PingAsync"/> does instead of answering at once: hang, throw (an engine that is down).</summary>
    public Func<CancellationToken, Task>? OnPing { get; set; }

    public async Task<string> CreateAsync(ContainerSpec spec, CancellationToken cancellationToken = default)
    {
        if (CreateDelay > TimeSpan.Zero)
        {
            await Task.Delay(CreateDelay, _time, cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (Containers.Any(c => c.Name == spec.Name))
            {
                throw new ContainerRuntimeException(ContainerRuntimeError.Conflict, $"The container name '{spec.Name}' is already in use.");
            }

            _created++;
            var id = $"{_created:x4}" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
            Specs.Add(spec);
            _lives[id] = new Lifecycle(spec, $"10.0.{_created / 250}.{_created % 250 + 2}");
            Containers.Add(new ContainerSummary(id, spec.Name, spec.Image, EngineContainerState.Created, spec.Labels, _time.GetUtcNow()));
            return id;
        }
    }

    public Task StartAsync(string containerId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (StartFailure is { } failure)
        {
            throw new ContainerRuntimeException(ContainerRuntimeError.Unknown, failure);
        }

        TaskCompletionSource<ContainerExit>? signal = null;
        lock (_gate)
        {
            var life = _lives.GetValueOrDefault(containerId)
                ?? throw new ContainerRuntimeException(ContainerRuntimeError.ContainerNotFound, $"No such container: {containerId}");
            life.Started = true;
            life.ListenAt = PortDelay is { } delay ? _time.GetUtcNow() + delay : null;
            var index = Containers.FindIndex(c => c.Id == containerId);
            Containers[index] = Containers[index] with { State = EngineContainerState.Running };
            Logs[containerId] = [.. OutputOnStart];
            if (ExitOnStart is { } code)
            {
                signal = ExitLocked(containerId, new ContainerExit(code, false));
            }
        }

        signal?.TrySetResult(new ContainerExit(ExitOnStart ?? 0, false));
        return Task.CompletedTask;
    }

    public Task<ContainerInspection?> InspectAsync(string containerId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var summary = Containers.FirstOrDefault(c => c.Id == containerId);
            if (summary is null)
            {
                return Task.FromResult<ContainerInspection?>(null);
            }

            var life = _lives.GetValueOrDefault(containerId);
            var exited = life?.Exit is not null && !InspectLagsExit;
            var state = exited ? EngineContainerState.Exited : summary.State == EngineContainerState.Exited && InspectLagsExit ? EngineContainerState.Running : summary.State;
            return Task.FromResult<ContainerInspection?>(new ContainerInspection
            {
                Id = summary.Id,
                Name = summary.Name,
                Image = summary.Image,
                State = state,
                ExitCode = exited ? life!.Exit!.ExitCode : null,
                OomKilled = exited && life!.Exit!.OomKilled,
                Labels = summary.Labels,
                IpAddress = state == EngineContainerState.Running ? life?.Address ?? "10.0.0.1" : null,
                Runtime = life?.Spec.Runtime,
            });
        }
    }

    public async Task<ContainerExit> WaitForExitAsync(string containerId, CancellationToken cancellationToken = default)
    {
        Task<ContainerExit> exited;
        lock (_gate)
        {
            if (_lives.GetValueOrDefault(containerId) is not { } life)
            {
                var summary = Containers.FirstOrDefault(c => c.Id == containerId)
                    ?? throw new ContainerRuntimeException(ContainerRuntimeError.ContainerNotFound, $"No such container: {containerId}");
                if (summary.State != EngineContainerState.Running)
                {
                    return new ContainerExit(0, false);
                }

                // A container added by hand runs until the test ends.
                exited = new TaskCompletionSource<ContainerExit>().Task;
            }
            else
            {
                exited = life.Exited.Task;
            }
        }

        return await exited.WaitAsync(cancellationToken);
    }

    public Task SignalAsync(string containerId, ContainerSignal signal, CancellationToken cancellationToken = default)
    {
        if (signal is ContainerSignal.SIGKILL)
        {
            Exit(containerId, 137);
        }

        return Task.CompletedTask;
    }

    public Task RemoveAsync(string containerId, CancellationToken cancellationToken = default)
    {
        TaskCompletionSource<ContainerExit>? signal;
        lock (_gate)
        {
            var summary = Containers.FirstOrDefault(c => c.Id == containerId || c.Name == containerId);
            if (summary is null)
            {
                return Task.CompletedTask;
            }

            signal = ExitLocked(summary.Id, new ContainerExit(137, false));
            Containers.Remove(summary);
            _lives.Remove(summary.Id);
        }

        signal?.TrySetResult(new ContainerExit(137, false));
        return Task.CompletedTask;
    }

    public Task<ContainerStats> GetStatsAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    /// <summary>Names of the networks ensured so far.</summary>
    public List<string> Networks { get; } = [];

    public Task<string> EnsureNetworkAsync(NetworkSpec spec, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!Networks.Contains(spec.Name))
            {
                Networks.Add(spec.Name);
            }
        }

        return Task.FromResult(spec.Name);
    }

    public Task<IReadOnlyList<NetworkInfo>> ListNetworksAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task RemoveNetworkAsync(string networkId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Networks.Remove(networkId);
        }

        return Task.CompletedTask;
    }

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
            if (ImageRemovalErrors.TryGetValue(reference, out var error))
            {
                throw error;
            }

            foreach (var tag in Images.Where(i => i.Key == reference || i.Value.Id == reference).Select(i => i.Key).ToList())
            {
                Images.Remove(tag);
            }
        }

        return Task.CompletedTask;
    }
}
