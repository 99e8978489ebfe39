namespace Berth.Runtime;

/// <summary>
/// Names the engine a driver talks to, so that nodes can tell whether they share one (a cluster's survivors remove a dead
/// node's containers only from an engine they share with it).
/// </summary>
public interface IContainerEngineIdentity
{
    /// <summary>
    /// The engine's own identity: for Docker, the <c>ID</c> field of <c>docker info</c>, which the engine keeps in its data
    /// directory, so it stays the same across engine restarts and differs between engines.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A non-empty ID; the same for every node that talks to the same engine.</returns>
    /// <exception cref="ContainerRuntimeException">The engine cannot be reached (<see cref="ContainerRuntimeError.EngineUnavailable"/>) or does not report an ID.</exception>
    Task<string> GetEngineIdAsync(CancellationToken cancellationToken = default);
}
