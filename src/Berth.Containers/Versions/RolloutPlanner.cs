using Berth.Runtime;

namespace Berth.Containers;

/// <summary>A running container as a rollout sees it.</summary>
/// <param name="ObjectId">Its object's ID (label <c>berth.object</c>).</param>
/// <param name="ContainerId">The engine's ID.</param>
/// <param name="Version">The recorded version it runs, or <see langword="null"/> when unlabelled (from before versions).</param>
/// <param name="CreatedAt">When it was created.</param>
internal sealed record RolloutInstance(string ObjectId, string ContainerId, int? Version, DateTimeOffset CreatedAt);

/// <summary>What to replace now, and how long to wait when everything due is too young.</summary>
/// <param name="Now">The containers to replace now, oldest first.</param>
/// <param name="Wait">When <paramref name="Now"/> is empty: how long until the oldest candidate is old enough.</param>
internal sealed record RolloutPick(IReadOnlyList<RolloutInstance> Now, TimeSpan Wait);

/// <summary>The arithmetic of a rollout: how many containers each step replaces, and which. Pure: tested with a fake clock.</summary>
internal static class RolloutPlanner
{
    /// <summary>How many of <paramref name="total"/> containers must have been replaced once a step of <paramref name="stepPercent"/> % is done: ceil(step × total).</summary>
    public static int TargetFor(int stepPercent, int total) => (int)(((long)stepPercent * total + 99) / 100);

    /// <summary>The running containers of <paramref name="containers"/> whose version is not the one their ID maps to, oldest first.</summary>
    public static IReadOnlyList<RolloutInstance> Outdated(IEnumerable<ContainerSummary> containers, ClassTraffic traffic) =>
        containers
            .Where(c => c.State == EngineContainerState.Running)
            .Select(c => new RolloutInstance(BerthNames.Label(c.Labels, BerthLabels.ObjectId), c.Id, Container.VersionOf(c.Labels), c.CreatedAt))
            .Where(i => i.ObjectId.Length > 0 && i.Version != traffic.VersionFor(i.ObjectId))
            .OrderBy(i => i.CreatedAt)
            .ThenBy(i => i.ContainerId, StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// Of <paramref name="outdated"/> (oldest first), the <paramref name="need"/> oldest, less those younger than
    /// <paramref name="activeGrace"/> at <paramref name="now"/>; when that leaves none, how long until the oldest is old enough.
    /// </summary>
    public static RolloutPick Pick(IReadOnlyList<RolloutInstance> outdated, int need, DateTimeOffset now, TimeSpan activeGrace)
    {
        if (need <= 0 || outdated.Count == 0)
        {
            return new RolloutPick([], TimeSpan.Zero);
        }

        var due = outdated.Take(need).ToList();
        var ready = due.Where(i => activeGrace <= TimeSpan.Zero || now - i.CreatedAt >= activeGrace).ToList();
        if (ready.Count > 0)
        {
            return new RolloutPick(ready, TimeSpan.Zero);
        }

        var wait = activeGrace - (now - due.Min(i => i.CreatedAt));
        return new RolloutPick([], wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
    }
}
