using Berth.Containers;
using Berth.Objects;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>
/// The host's part of <c>berth dev</c> (on when the configuration value <c>BERTH_DEV</c> is <c>1</c>, as <c>berth dev</c> sets
/// it): watches each Dockerfile class's build context; when its content hash changes (debounced by <see cref="Quiet"/>) it
/// rebuilds the image and stops the class's running containers that run an older image, each through its object with the
/// class's stop grace, so the next request starts on the new image. A failed build leaves the running containers alone.
/// When the host stops, it stops every container of this node the same way (dev is not production: no adoption).
/// </summary>
internal sealed partial class DevImageWatcher(
    BerthAppConfig config,
    AppImageBuilder images,
    ContainerClassRegistry classes,
    IContainerOperations runtime,
    IOptions<ContainerOptions> node,
    IServiceProvider services,
    TimeProvider timeProvider,
    ILogger<DevImageWatcher> logger) : IHostedService, IDisposable
{
    /// <summary>The configuration key (an environment variable) that turns dev mode on when it is <c>1</c>.</summary>
    public const string EnabledKey = "BERTH_DEV";

    /// <summary>How long a build context must stay unchanged before it is rebuilt: 300 ms.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    private readonly CancellationTokenSource _stopping = new();
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly Dictionary<string, string> _versions = new(StringComparer.Ordinal);
    private ChangeDebouncer? _debouncer;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _debouncer = new ChangeDebouncer(Quiet, timeProvider, RebuildIfChangedAsync, _stopping.Token);
        foreach (var container in config.Containers)
        {
            if (container.Image is not DockerfileImage build || !Directory.Exists(build.ContextDirectory))
            {
                continue;
            }

            lock (_versions)
            {
                _versions[container.ClassName] = TryHash(build) ?? "";
            }

            var className = container.ClassName;
            var watcher = new FileSystemWatcher(build.ContextDirectory)
            {
                IncludeSubdirectories = true,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.Attributes,
            };
            watcher.Changed += (_, _) => _debouncer.Changed(className);
            watcher.Created += (_, _) => _debouncer.Changed(className);
            watcher.Deleted += (_, _) => _debouncer.Changed(className);
            watcher.Renamed += (_, _) => _debouncer.Changed(className);
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
            Log.DevWatching(logger, className, build.ContextDirectory);
        }

        return Task.CompletedTask;
    }

    /// <summary>Stops the watchers, then every container of this node through its object, in parallel, each with its class's grace.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        foreach (var watcher in _watchers)
        {
            watcher.EnableRaisingEvents = false;
        }

        if (_debouncer is not null)
        {
            await _debouncer.IdleAsync().WaitAsync(cancellationToken);
        }

        var running = await RunningAsync(className: null, cancellationToken);
        if (running.Count == 0)
        {
            return;
        }

        Log.DevStoppingAll(logger, running.Count);
        await Task.WhenAll(running.Select(c => StopThroughObjectAsync(c, cancellationToken)));
    }

    public void Dispose()
    {
        _debouncer?.Dispose();
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }

        _stopping.Dispose();
    }

    /// <summary>
    /// Rebuilds <paramref name="className"/>'s image when its inputs' hash differs from the last one seen, then stops its
    /// containers that run another version. Does nothing when the hash did not change (a touched file, an ignored file).
    /// </summary>
    internal async Task RebuildIfChangedAsync(string className, CancellationToken cancellationToken)
    {
        if (config.FindContainer(className) is not { Image: DockerfileImage build } container || TryHash(build) is not { } version)
        {
            return;
        }

        lock (_versions)
        {
            if (_versions.TryGetValue(className, out var last) && last == version)
            {
                return;
            }

            _versions[className] = version;
        }

        Log.DevContextChanged(logger, className, version);
        AppImage image;
        try
        {
            image = await images.EnsureImageAsync(container, cancellationToken);
        }
        catch (ContainerRuntimeException ex)
        {
            // Logged by the builder with the failing step; the running containers keep the last good image.
            Log.DevRebuildFailed(logger, className, ex.Error.ToString());
            return;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        // A host that records versions (AddBerth with a config file): the rebuild is a version like a deploy's, rolled out
        // under the class's rollout rules, so new containers start on it and running ones are drained and replaced.
        if (services.GetService<ClassDeployer>() is { } deployer)
        {
            try
            {
                if (await deployer.RecordBuiltAsync(container, "dev", cancellationToken) is { First: false } recorded)
                {
                    Log.DevRollingOut(logger, className, recorded.Version.Number, recorded.Version.Image);
                    await deployer.RollOutAsync(className, recorded.Version.Number, 100, "dev", cancellationToken);
                }
            }
            catch (Exception ex) when (ex is ContainerRuntimeException or ArgumentException or InvalidOperationException)
            {
                Log.DevRebuildFailed(logger, className, ex.Message);
            }

            return;
        }

        // New containers of the class start from the new image (the class resolved its image once, at start-up).
        if (classes.TryGet(className, out var containerClass))
        {
            containerClass.UseImage(image.Reference);
        }

        var outdated = (await RunningAsync(className, cancellationToken))
            .Where(c => BerthNames.Label(c.Labels, BerthLabels.Version) != image.Version)
            .ToList();
        if (outdated.Count > 0)
        {
            Log.DevReplacing(logger, className, outdated.Count, image.Reference);
            await Task.WhenAll(outdated.Select(c => StopThroughObjectAsync(c, cancellationToken)));
        }
    }

    private async Task<IReadOnlyList<ContainerSummary>> RunningAsync(string? className, CancellationToken cancellationToken)
    {
        var labels = BerthNames.ForNode(node.Value.AppName, node.Value.NodeId);
        if (className is not null)
        {
            labels[BerthLabels.Class] = className;
        }

        try
        {
            return (await runtime.ListAsync(labels, cancellationToken)).Where(c => c.State == EngineContainerState.Running).ToList();
        }
        catch (ContainerRuntimeException ex)
        {
            Log.DevListFailed(logger, ex.Message);
            return [];
        }
    }

    private async Task StopThroughObjectAsync(ContainerSummary container, CancellationToken cancellationToken)
    {
        var className = BerthNames.Label(container.Labels, BerthLabels.Class);
        var objectId = BerthNames.Label(container.Labels, BerthLabels.ObjectId);
        try
        {
            if (services.GetKeyedService<DurableObjectNamespace<IContainer>>(className) is { } objects && DurableObjectId.TryParse(objectId, out var id))
            {
                // The object stops its container with the class's grace, runs its hooks and records the stop as requested.
                await objects.Get(id).StopAsync(ContainerSignal.SIGTERM, cancellationToken);
            }
            else
            {
                await runtime.StopAsync(container.Id, new StopOptions(ContainerSignal.SIGTERM, node.Value.StopGracePeriod), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.DevStopFailed(logger, className, objectId, ex.Message);
        }
    }

    private string? TryHash(DockerfileImage build)
    {
        try
        {
            return ImageContentHash.Compute(build);
        }
        catch (IOException ex)
        {
            // A file vanished or was locked mid-save; the next change event hashes again.
            Log.DevHashFailed(logger, build.ContextDirectory, ex.Message);
            return null;
        }
        catch (UnauthorizedAccessException ex)
        {
            Log.DevHashFailed(logger, build.ContextDirectory, ex.Message);
            return null;
        }
    }
}
