namespace Berth.Containers;

/// <summary>
/// Rolls a class's running containers onto another version, step by step (the seed's
/// <c>rollout_step_percentage</c>), draining each one's in-flight requests, then SIGTERM, then SIGKILL after
/// the stop grace. Rollouts are durable: a node restarted mid-rollout resumes it.
/// </summary>
public interface IRolloutCoordinator
{
    /// <summary>
    /// Starts rolling <see cref="RolloutRequest.ClassName"/> to <see cref="RolloutRequest.ToVersion"/> and returns at
    /// once; a rollout already running for the class is superseded (its replaced containers stay replaced).
    /// </summary>
    /// <exception cref="ArgumentException">The class or version is unknown.</exception>
    Task<RolloutStatus> StartAsync(RolloutRequest request, CancellationToken cancellationToken = default);

    /// <summary>The newest rollout of the class, or <see langword="null"/> when it never had one.</summary>
    Task<RolloutStatus?> GetStatusAsync(string className, CancellationToken cancellationToken = default);

    /// <summary>The newest rollout of every class that had one.</summary>
    Task<IReadOnlyList<RolloutStatus>> ListAsync(CancellationToken cancellationToken = default);
}

/// <summary>What to roll out.</summary>
/// <param name="ClassName">The container class.</param>
/// <param name="ToVersion">The version to run.</param>
/// <param name="Percent">
/// 100 (default) makes <paramref name="ToVersion"/> current for every object; below 100 starts a traffic split:
/// that share of object IDs (sticky per ID) runs <paramref name="ToVersion"/>, the rest the current version.
/// </param>
/// <param name="Trigger">What asked: <c>deploy</c>, <c>rollback</c>, <c>startup</c>.</param>
[GenerateSerializer, Immutable]
public sealed record RolloutRequest(
    [property: Id(0)] string ClassName,
    [property: Id(1)] int ToVersion,
    [property: Id(2)] int Percent = 100,
    [property: Id(3)] string Trigger = "deploy");

/// <summary>A rollout's progress.</summary>
/// <param name="ClassName">The container class.</param>
/// <param name="FromVersion">The version that was current before, or <see langword="null"/> for the first.</param>
/// <param name="ToVersion">The version being rolled out.</param>
/// <param name="State"><c>running</c>, <c>completed</c>, <c>failed</c> or <c>superseded</c>.</param>
/// <param name="Steps">The step percentages, e.g. <c>[10, 100]</c>.</param>
/// <param name="StepIndex">The step being worked on (0-based); equal to <c>Steps.Count</c> when done.</param>
/// <param name="Replaced">Containers replaced so far.</param>
/// <param name="Total">Containers on another version when the rollout started.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="UpdatedAt">When it last changed.</param>
/// <param name="Error">Why it failed, or <see langword="null"/>.</param>
[GenerateSerializer, Immutable]
public sealed record RolloutStatus(
    [property: Id(0)] string ClassName,
    [property: Id(1)] int? FromVersion,
    [property: Id(2)] int ToVersion,
    [property: Id(3)] string State,
    [property: Id(4)] IReadOnlyList<int> Steps,
    [property: Id(5)] int StepIndex,
    [property: Id(6)] int Replaced,
    [property: Id(7)] int Total,
    [property: Id(8)] DateTimeOffset StartedAt,
    [property: Id(9)] DateTimeOffset UpdatedAt,
    [property: Id(10)] string? Error);
