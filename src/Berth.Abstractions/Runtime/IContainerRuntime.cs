namespace Berth.Runtime;

/// <summary>
/// The one seam between Berth and whatever runs containers (the Docker engine today; other
/// OCI runtimes or microVMs later). Every operation is async, cancellable and fails with a
/// <see cref="ContainerRuntimeException"/> whose <see cref="ContainerRuntimeException.Error"/>
/// tells the caller what went wrong.
/// </summary>
/// <remarks>
/// The composite of the narrow interfaces a driver implements (<see cref="IContainerOperations"/>,
/// <see cref="IContainerExecOperations"/>, <see cref="INetworkOperations"/>, <see cref="IImageOperations"/>) plus
/// <see cref="PingAsync"/>. Consumers take only the narrow interfaces they use; a driver registers one instance as all of them.
/// </remarks>
public interface IContainerRuntime : IContainerOperations, IContainerExecOperations, INetworkOperations, IImageOperations
{
    /// <summary>Checks that the engine answers; throws <see cref="ContainerRuntimeError.EngineUnavailable"/> otherwise.</summary>
    Task PingAsync(CancellationToken cancellationToken = default);
}
