namespace Berth.Containers;

/// <summary>
/// The node's durable record of every class's versions and of which version(s) new activations use.
/// Implemented by Berth.Hosting on a SQLite file in the node's data directory.
/// </summary>
public interface IClassVersionStore
{
    /// <summary>
    /// Records a new version with the next number for <paramref name="className"/>. It does not become current:
    /// call <see cref="SetTrafficAsync"/> (a rollout does).
    /// </summary>
    Task<ClassVersion> RecordAsync(string className, string image, string? digest, string configHash, string trigger, CancellationToken cancellationToken = default);

    /// <summary>One version, or <see langword="null"/> when <paramref name="number"/> was never recorded.</summary>
    Task<ClassVersion?> GetAsync(string className, int number, CancellationToken cancellationToken = default);

    /// <summary>Every version of the class, newest first.</summary>
    Task<IReadOnlyList<ClassVersion>> ListAsync(string className, CancellationToken cancellationToken = default);

    /// <summary>The class's traffic, or <see langword="null"/> before its first version.</summary>
    Task<ClassTraffic?> GetTrafficAsync(string className, CancellationToken cancellationToken = default);

    /// <summary>Makes <paramref name="traffic"/> the class's traffic, durably.</summary>
    /// <exception cref="ArgumentException">A version in it was never recorded, or the percentage is outside 0–100.</exception>
    Task SetTrafficAsync(ClassTraffic traffic, CancellationToken cancellationToken = default);
}
