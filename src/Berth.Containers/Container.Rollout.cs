using System.Globalization;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Containers;

/// <summary>Versions and rollouts: which image a start runs, and the replacement of a container on another version.</summary>
public abstract partial class Container
{
    private int? _runningVersion;
    private Task<ContainerReplaceOutcome>? _replace;
    private long _replaceGeneration;

    /// <summary>
    /// The image a new container runs: when the node records versions (an <see cref="IClassVersionStore"/> is registered) and the
    /// class has traffic, that of the version this object's ID maps to; otherwise the class's image.
    /// </summary>
    private async Task<(string Image, int? Version)> ResolveImageAsync(CancellationToken cancellationToken)
    {
        if (ServiceProvider.GetService<IClassVersionStore>() is { } store && await store.GetTrafficAsync(ClassName, cancellationToken) is { } traffic)
        {
            var number = traffic.VersionFor(Context.Id.ToString());
            var version = await store.GetAsync(ClassName, number, cancellationToken)
                ?? throw new ContainerStartException(ContainerReadyError.StartFailed,
                    $"Container class '{ClassName}' cannot start: its traffic names version {number}, which was never recorded.");
            return (version.Image, number);
        }

        return (await _class.GetImageAsync(cancellationToken), null);
    }

    /// <summary>The recorded version a container's labels name, or <see langword="null"/> (unlabelled, or an image tag from before versions).</summary>
    internal static int? VersionOf(IReadOnlyDictionary<string, string> labels) =>
        labels.TryGetValue(BerthLabels.Version, out var value) && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null;

    /// <inheritdoc />
    async Task<ContainerReplaceSlice> IContainerLifecycle.ReplaceSliceAsync(ContainerReplaceRequest request, long generation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (generation != 0 && generation == _replaceGeneration && _replace is { IsCompleted: true } ended)
        {
            return new ContainerReplaceSlice(await ended, 0);
        }

        if (_replace is not { IsCompleted: false })
        {
            if (_currentContainerId is null && _start is not { IsCompleted: false })
            {
                return new ContainerReplaceSlice(ContainerReplaceOutcome.NotRunning, 0);
            }

            if (_runningVersion == request.ToVersion && _start is not { IsCompleted: false })
            {
                return new ContainerReplaceSlice(ContainerReplaceOutcome.AlreadyCurrent, 0);
            }

            _replaceGeneration++;
            _replace = RunReplaceAsync(request);
        }

        var replace = _replace;
        var current = _replaceGeneration;
        if (!await CompletesWithinSliceAsync(replace, cancellationToken))
        {
            return new ContainerReplaceSlice(ContainerReplaceOutcome.Pending, current);
        }

        return new ContainerReplaceSlice(await replace, current);
    }

    /// <summary>Drains the lease (bounded by the grace), then SIGTERM and SIGKILL at the rest of the grace, with <see cref="StopReason.Replaced"/>.</summary>
    private async Task<ContainerReplaceOutcome> RunReplaceAsync(ContainerReplaceRequest request)
    {
        var deadline = _time.GetUtcNow() + request.Grace;
        await SettleStartAsync();
        if (_stop is { IsCompleted: false } stopping)
        {
            await stopping.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Current);
        }

        if (_currentContainerId is not { } id)
        {
            return ContainerReplaceOutcome.NotRunning;
        }

        if (_runningVersion == request.ToVersion)
        {
            return ContainerReplaceOutcome.AlreadyCurrent;
        }

        // Requests that arrive from now on wait for this stop, then start the new version (a start awaits the stop in flight).
        var replaced = ReplaceCoreAsync(id, deadline);
        _stopGeneration++;
        _stop = replaced;
        await replaced;
        return ContainerReplaceOutcome.Replaced;
    }

    private async Task ReplaceCoreAsync(string id, DateTimeOffset deadline)
    {
        var lease = _lease;
        var fromVersion = _runningVersion;
        lease?.Retire();
        SetStatus(ContainerObjectState.Stopping, id, null, "replaced");
        var drainStarted = _time.GetTimestamp();
        while (lease is { InFlight: > 0 } && _currentContainerId == id && _time.GetUtcNow() < deadline)
        {
            await Task.Delay(_options.PollInterval, _time);
        }

        RolloutLog.Drained(_logger, ClassName, ObjectName, fromVersion?.ToString(CultureInfo.InvariantCulture) ?? "unversioned",
            _time.GetElapsedTime(drainStarted).TotalMilliseconds, lease?.InFlight ?? 0);
        if (_currentContainerId != id)
        {
            // It exited on its own while draining; the exit was recorded.
            return;
        }

        // SIGKILL at the grace: what is left of it after the drain, and at least a moment for SIGTERM to be handled.
        var remaining = deadline - _time.GetUtcNow();
        var floor = TimeSpan.FromSeconds(1);
        await StopCoreAsync(ContainerSignal.SIGTERM, StopReason.Replaced, CancellationToken.None, remaining < floor ? floor : remaining);
    }
}
