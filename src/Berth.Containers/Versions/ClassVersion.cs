namespace Berth.Containers;

/// <summary>
/// One version of a container class: a build (or an image reference) recorded by the node, numbered from 1
/// upwards per class and never reused. Versions are immutable once recorded.
/// </summary>
/// <param name="ClassName">The container class (the config's <c>class_name</c>).</param>
/// <param name="Number">The version number, 1, 2, 3… per class, monotonically increasing.</param>
/// <param name="Image">
/// The image reference the engine runs for this version: by digest where the image went through the node's
/// registry (<c>127.0.0.1:5000/berth/app/class@sha256:…</c>), otherwise the local tag.
/// </param>
/// <param name="Digest">The image's content digest (<c>sha256:…</c>), or <see langword="null"/> when unknown.</param>
/// <param name="ConfigHash">A hash of the class's config at the time (instance type, ports, env…), hex.</param>
/// <param name="CreatedAt">When the version was recorded.</param>
/// <param name="Trigger">What recorded it: <c>startup</c>, <c>deploy</c>, <c>rollback</c>, <c>dev</c>, or a user-given note.</param>
[GenerateSerializer, Immutable]
public sealed record ClassVersion(
    [property: Id(0)] string ClassName,
    [property: Id(1)] int Number,
    [property: Id(2)] string Image,
    [property: Id(3)] string? Digest,
    [property: Id(4)] string ConfigHash,
    [property: Id(5)] DateTimeOffset CreatedAt,
    [property: Id(6)] string Trigger);

/// <summary>
/// Which versions of a class new activations start on: <see cref="Current"/>, or, for a traffic split,
/// <see cref="Candidate"/> for <see cref="CandidatePercent"/> percent of object IDs (sticky per ID).
/// </summary>
/// <param name="ClassName">The container class.</param>
/// <param name="Current">The version every container should run once no split is active.</param>
/// <param name="Candidate">The other version of a split, or <see langword="null"/> when there is none.</param>
/// <param name="CandidatePercent">0–100: the share of object IDs that start on <see cref="Candidate"/>.</param>
[GenerateSerializer, Immutable]
public sealed record ClassTraffic(
    [property: Id(0)] string ClassName,
    [property: Id(1)] int Current,
    [property: Id(2)] int? Candidate,
    [property: Id(3)] int CandidatePercent)
{
    /// <summary>
    /// The version an object ID runs: <see cref="Candidate"/> when a stable hash of <paramref name="objectId"/>
    /// modulo 100 is below <see cref="CandidatePercent"/>, else <see cref="Current"/>. The same ID always gets
    /// the same answer for the same split.
    /// </summary>
    public int VersionFor(string objectId)
    {
        ArgumentNullException.ThrowIfNull(objectId);
        if (Candidate is not { } candidate || CandidatePercent <= 0)
        {
            return Current;
        }

        // FNV-1a: stable across processes and restarts (string.GetHashCode is randomised per process).
        var hash = 2166136261u;
        foreach (var c in objectId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash % 100 < (uint)CandidatePercent ? candidate : Current;
    }
}
