namespace Berth.Runtime;

/// <summary>
/// Creates, lists and removes networks: the network part of <see cref="IContainerRuntime"/>.
/// Every operation is async, cancellable and fails with a <see cref="ContainerRuntimeException"/>.
/// </summary>
public interface INetworkOperations
{
    /// <summary>Creates the network if it does not exist; returns its ID.</summary>
    Task<string> EnsureNetworkAsync(NetworkSpec spec, CancellationToken cancellationToken = default);

    /// <summary>Lists networks that carry all the given labels.</summary>
    Task<IReadOnlyList<NetworkInfo>> ListNetworksAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default);

    /// <summary>Removes a network. Succeeds if it is already gone.</summary>
    Task RemoveNetworkAsync(string networkId, CancellationToken cancellationToken = default);
}
