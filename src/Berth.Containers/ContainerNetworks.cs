using System.Collections.Concurrent;
using Berth.Runtime;
using Microsoft.Extensions.Options;

namespace Berth.Containers;

/// <summary>
/// Creates, once per node, the app's two networks: one with a route out and one without. The networks are shared
/// by every node of the app on one engine (creating one that exists is not an error).
/// </summary>
public sealed class ContainerNetworks(INetworkOperations runtime, IOptions<ContainerOptions> options)
{
    private readonly ConcurrentDictionary<bool, Lazy<Task<string>>> _networks = new();

    /// <summary>Makes sure the network exists and returns its name.</summary>
    public async Task<string> EnsureAsync(bool enableInternet, CancellationToken cancellationToken)
    {
        var lazy = _networks.GetOrAdd(enableInternet, internet => new Lazy<Task<string>>(() => CreateAsync(internet)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (ContainerRuntimeException)
        {
            // Let the next start try again (the engine may be back).
            _networks.TryRemove(new KeyValuePair<bool, Lazy<Task<string>>>(enableInternet, lazy));
            throw;
        }
    }

    private async Task<string> CreateAsync(bool enableInternet)
    {
        var settings = options.Value;
        var name = BerthNames.Network(settings.AppName, enableInternet);
        var labels = BerthNames.ForNetwork(settings.AppName, settings.ExtraLabels);
        await runtime.EnsureNetworkAsync(new NetworkSpec { Name = name, Internal = !enableInternet, Labels = labels }, CancellationToken.None);
        return name;
    }
}
