using System.Collections.Concurrent;
using System.Net;
using Berth.Egress;
using Berth.Runtime;
using Microsoft.Extensions.Options;

namespace Berth.Containers;

/// <summary>The network one start of a container joins, and the egress proxy that serves it when its class is filtered.</summary>
/// <param name="Name">The network's name.</param>
/// <param name="Proxy">The egress proxy's address on the network's bridge, or <see langword="null"/> (open network, or no egress path on this node).</param>
/// <param name="Egress">The node's egress path the container registers with, or <see langword="null"/>.</param>
public sealed record ContainerNetwork(string Name, IPEndPoint? Proxy, EgressNode? Egress);

/// <summary>
/// Owns which networks exist and which one a class joins. Per app (shared by every node of the app on one engine):
/// <list type="bullet">
/// <item><c>berth-{app}</c>: a plain bridge with a route out, for classes with no egress rules (<see cref="EgressPolicy.IsFiltered"/> false);</item>
/// <item><c>berth-{app}-internal</c>: an internal bridge (the engine forwards nothing out of it) for <c>EnableInternet = false</c>.
/// The node's <see cref="EgressNode"/> listens on its gateway address (so <c>HTTP_PROXY</c> clients get a clear 403), and
/// nothing is redirected: a direct connection has no route at all;</item>
/// <item><c>berth-{app}-egress</c>: an internal bridge for classes with host lists; the firewall redirects its TCP 80/443 to
/// the proxy, which applies each container's policy.</item>
/// </list>
/// Both bridges are named <see cref="BerthNames.BridgeInterface"/> so host firewall rules can match them.
/// Without an <see cref="EgressNode"/> registered, filtered classes still get the internal network: nothing gets out (fail closed).
/// </summary>
/// <param name="runtime">Creates networks.</param>
/// <param name="options">The node's settings (the app name).</param>
/// <param name="egress">The node's egress path; <see langword="null"/> when not registered.</param>
public sealed class ContainerNetworks(INetworkOperations runtime, IOptions<ContainerOptions> options, EgressNode? egress = null)
{
    private readonly ConcurrentDictionary<NetworkKind, Lazy<Task<string>>> _networks = new();

    private enum NetworkKind
    {
        Open,
        Internal,
        Egress,
    }

    /// <summary>Makes sure the network for <paramref name="policy"/> exists, with its egress proxy when filtered.</summary>
    /// <param name="policy">The class's egress policy for this start.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <exception cref="ContainerRuntimeException">The engine failed to create the network.</exception>
    /// <exception cref="EgressFirewallException">The egress firewall rules could not be installed.</exception>
    /// <exception cref="InvalidOperationException">The network's bridge is not named <see cref="BerthNames.BridgeInterface"/> (created by an older Berth: remove it).</exception>
    public Task<ContainerNetwork> EnsureAsync(EgressPolicy policy, CancellationToken cancellationToken) =>
        EnsureAsync(policy, outboundHandlers: false, cancellationToken);

    /// <summary>
    /// Makes sure the network for <paramref name="policy"/> exists, with its egress proxy when filtered. A class with
    /// outbound handlers always joins the <c>-egress</c> network (its TCP 80/443 is redirected to the proxy, which answers
    /// the handlers' hosts and applies the policy to the rest), internet on or off.
    /// </summary>
    /// <param name="policy">The class's egress policy for this start.</param>
    /// <param name="outboundHandlers">Whether the class has outbound handlers (<c>OutboundByHost</c> or <c>Outbound</c>).</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <exception cref="ContainerRuntimeException">The engine failed to create the network.</exception>
    /// <exception cref="EgressFirewallException">The egress firewall rules could not be installed.</exception>
    /// <exception cref="InvalidOperationException">The network's bridge is not named <see cref="BerthNames.BridgeInterface"/> (created by an older Berth: remove it).</exception>
    public async Task<ContainerNetwork> EnsureAsync(EgressPolicy policy, bool outboundHandlers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var kind = outboundHandlers ? NetworkKind.Egress : !policy.EnableInternet ? NetworkKind.Internal : policy.IsFiltered ? NetworkKind.Egress : NetworkKind.Open;
        var name = await EnsureAsync(kind, cancellationToken);
        if (kind == NetworkKind.Open || egress is null)
        {
            return new ContainerNetwork(name, null, null);
        }

        var proxy = await egress.EnsureAsync(BerthNames.BridgeInterface(name), transparent: kind == NetworkKind.Egress, cancellationToken);
        return new ContainerNetwork(name, proxy, egress);
    }

    /// <summary>Makes sure the network exists and returns its name.</summary>
    /// <param name="enableInternet">Whether the network has a route out.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    public Task<string> EnsureAsync(bool enableInternet, CancellationToken cancellationToken) =>
        EnsureAsync(enableInternet ? NetworkKind.Open : NetworkKind.Internal, cancellationToken);

    private async Task<string> EnsureAsync(NetworkKind kind, CancellationToken cancellationToken)
    {
        var lazy = _networks.GetOrAdd(kind, k => new Lazy<Task<string>>(() => CreateAsync(k)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (ContainerRuntimeException)
        {
            // Let the next start try again (the engine may be back).
            _networks.TryRemove(new KeyValuePair<NetworkKind, Lazy<Task<string>>>(kind, lazy));
            throw;
        }
    }

    /// <summary>The name of the app's network of <paramref name="kind"/>.</summary>
    private string NameOf(NetworkKind kind)
    {
        var app = options.Value.AppName;
        return kind switch
        {
            NetworkKind.Open => BerthNames.Network(app, enableInternet: true),
            NetworkKind.Internal => BerthNames.Network(app, enableInternet: false),
            _ => $"{BerthNames.Prefix}-{app}-egress",
        };
    }

    private async Task<string> CreateAsync(NetworkKind kind)
    {
        var settings = options.Value;
        var name = NameOf(kind);
        var labels = BerthNames.ForNetwork(settings.AppName, settings.ExtraLabels);
        await runtime.EnsureNetworkAsync(new NetworkSpec
        {
            Name = name,
            Internal = kind != NetworkKind.Open,
            Labels = labels,
            Options = new Dictionary<string, string> { ["com.docker.network.bridge.name"] = BerthNames.BridgeInterface(name) },
        }, CancellationToken.None);
        return name;
    }
}
