using System.Diagnostics;
using System.Globalization;
using Berth.Runtime;

namespace Berth.Testing;

/// <summary>
/// Labels for what tests create, and removal of what earlier (killed) test runs left behind.
/// Every test container, network and image carries <see cref="BerthLabels.Test"/>=1.
/// </summary>
public static class TestResources
{
    /// <summary>Names the test process (<c>pid-starttime</c>) that created a resource, so concurrent runs leave each other alone.</summary>
    public const string OwnerLabel = "berth.test.owner";

    private static readonly Dictionary<string, string> Filter = new() { [BerthLabels.Test] = "1" };

    private static readonly DateTimeOffset ProcessStart = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    /// <summary>This process's owner label value.</summary>
    public static string CurrentOwner { get; } = OwnerOf(Environment.ProcessId);

    /// <summary>
    /// The labels every test resource should carry: <c>berth.test=1</c>, <c>berth.managed=1</c> and
    /// <see cref="OwnerLabel"/>, plus <paramref name="extra"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Labels(IReadOnlyDictionary<string, string>? extra = null)
    {
        var labels = new Dictionary<string, string>
        {
            [BerthLabels.Test] = "1",
            [BerthLabels.Managed] = "1",
            [OwnerLabel] = CurrentOwner,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            labels[key] = value;
        }

        return labels;
    }

    /// <summary>
    /// Removes containers, then networks, labelled <c>berth.test=1</c> whose owner process is gone (so concurrent test
    /// assemblies do not break each other). This process's own are kept too: a class fixture calls this while other classes
    /// of the same assembly run (each test removes its own; the next run, or <c>scripts/test.sh</c>'s trap, removes what a
    /// killed one left). Containers without <see cref="OwnerLabel"/> are removed only if created before this process
    /// started; networks still in use are kept.
    /// With <paramref name="includeImages"/>, also removes every image labelled <c>berth.test=1</c>,
    /// including the shared test images (which other running test processes may be using).
    /// Removal is best effort per resource; returns how many resources were removed.
    /// </summary>
    public static async Task<int> CleanupAsync(IContainerRuntime runtime, bool includeImages = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        var removed = 0;
        foreach (var container in await runtime.ListAsync(Filter, cancellationToken))
        {
            // Without an owner label only what predates this process can be a leftover.
            var orphan = container.Labels.ContainsKey(OwnerLabel)
                ? !OwnedByALiveProcess(container.Labels)
                : container.CreatedAt < ProcessStart;
            if (orphan && await TryAsync(() => runtime.RemoveAsync(container.Id, cancellationToken)))
            {
                removed++;
            }
        }

        foreach (var network in await runtime.ListNetworksAsync(Filter, cancellationToken))
        {
            if (OwnedByALiveProcess(network.Labels))
            {
                continue;
            }

            // A network still in use (Conflict) is not a leftover, or its containers are not gone yet.
            if (await TryAsync(() => runtime.RemoveNetworkAsync(network.Id, cancellationToken)))
            {
                removed++;
            }
        }

        if (includeImages)
        {
            foreach (var image in await runtime.ListImagesAsync(Filter, cancellationToken))
            {
                if (await TryAsync(() => runtime.RemoveImageAsync(image.Id, force: true, cancellationToken)))
                {
                    removed++;
                }
            }
        }

        return removed;
    }

    /// <summary>
    /// Best effort: a resource that cannot be removed now (in use, being removed by another process, an
    /// engine hiccup on one object) is left for the next cleanup; an unreachable engine still fails.
    /// </summary>
    private static async Task<bool> TryAsync(Func<Task> remove)
    {
        try
        {
            await remove();
            return true;
        }
        catch (ContainerRuntimeException e) when (e.Error != ContainerRuntimeError.EngineUnavailable)
        {
            return false;
        }
    }

    private static bool OwnedByALiveProcess(IReadOnlyDictionary<string, string> labels)
    {
        if (!labels.TryGetValue(OwnerLabel, out var owner))
        {
            return false;
        }

        if (owner == CurrentOwner)
        {
            return true;
        }

        var dash = owner.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0 || !int.TryParse(owner.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return false;
        }

        try
        {
            // Same pid and same start time: the same process, not a reused pid.
            return OwnerOf(pid) == owner;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            return false;
        }
    }

    // Process.StartTime is derived from a boot time computed anew in each process, so two processes can
    // disagree about a third's start by a few ticks; the kernel's own start time (in clock ticks) is exact.
    /// <summary>The owner label value of a running process: its pid and the kernel's record of when it started.</summary>
    public static string OwnerOf(int pid) =>
        string.Create(CultureInfo.InvariantCulture, $"{pid}-{KernelStartTime(pid)}");

    private static string KernelStartTime(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name (which may hold spaces) start at field 3; starttime is field 22.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields[19];
    }
}
