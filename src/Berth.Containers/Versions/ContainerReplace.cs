namespace Berth.Containers;

/// <summary>A rollout's request to replace one object's container.</summary>
/// <param name="ToVersion">The version the object's ID runs now (<see cref="ClassTraffic.VersionFor"/>); a container already on it is left.</param>
/// <param name="Grace">
/// How long the container has, from now, to finish its in-flight requests (the lease drains) and then exit on SIGTERM; at its
/// end it is SIGKILLed.
/// </param>
[GenerateSerializer, Immutable]
internal sealed record ContainerReplaceRequest([property: Id(0)] int ToVersion, [property: Id(1)] TimeSpan Grace);

/// <summary>How a replacement ended.</summary>
internal enum ContainerReplaceOutcome
{
    /// <summary>Still under way: ask again with the slice's generation.</summary>
    Pending,

    /// <summary>The container was drained and stopped; the next request starts the new version.</summary>
    Replaced,

    /// <summary>No container ran (it slept or exited): nothing to replace.</summary>
    NotRunning,

    /// <summary>The container already runs the version asked for.</summary>
    AlreadyCurrent,
}

/// <summary>The answer to one slice of a replacement.</summary>
/// <param name="Outcome">How it ended, or <see cref="ContainerReplaceOutcome.Pending"/>.</param>
/// <param name="Generation">The replacement in flight, to pass to the next slice.</param>
[GenerateSerializer, Immutable]
internal sealed record ContainerReplaceSlice([property: Id(0)] ContainerReplaceOutcome Outcome, [property: Id(1)] long Generation);
