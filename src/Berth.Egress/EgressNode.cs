using System.Collections.Concurrent;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Egress;

/// <summary>
/// The node's egress path: one <see cref="EgressProxy"/> per filtered network, listening on that network's bridge
/// gateway address (never on the host's other addresses), and the firewall rules that force the network's traffic
/// through it. Containers register their address in <see cref="Clients"/> while they run.
/// </summary>
public sealed class EgressNode : IAsyncDisposable
{
    private readonly IEgressFirewall _firewall;
    private readonly EgressOptions _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly EgressResolver? _resolver;
    private readonly ConcurrentDictionary<string, Lazy<Task<EgressProxy>>> _proxies = new(StringComparer.Ordinal);

    /// <summary>Creates the node's egress path; proxies start on demand in <see cref="EnsureAsync"/>.</summary>
    /// <param name="clients">The registered containers.</param>
    /// <param name="firewall">Installs the rules.</param>
    /// <param name="options">The proxy's settings.</param>
    /// <param name="time">The clock for timeouts.</param>
    /// <param name="loggers">Loggers.</param>
    /// <param name="resolver">Resolves allowed hosts; <see langword="null"/> means the node's resolver.</param>
    public EgressNode(EgressClients clients, IEgressFirewall firewall, IOptions<EgressOptions> options, TimeProvider time, ILoggerFactory loggers, EgressResolver? resolver = null)
    {
        var errors = options.Value.Validate();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(EgressOptions.SectionName, typeof(EgressOptions), errors);
        }

        Clients = clients;
        _firewall = firewall;
        _options = options.Value;
        _time = time;
        _loggers = loggers;
        _resolver = resolver;
    }

    /// <summary>The containers the proxies serve, by source address.</summary>
    public EgressClients Clients { get; }

    /// <summary>
    /// Makes sure the proxy listens on bridge <paramref name="bridgeInterface"/>'s gateway address and the firewall forces
    /// the bridge's traffic through it; returns the proxy's address and port (what <c>HTTP_PROXY</c> names).
    /// </summary>
    /// <param name="bridgeInterface">The filtered network's bridge interface (<c>bb-…</c>); the network must exist.</param>
    /// <param name="transparent">Whether the bridge's TCP 80/443 is redirected to the proxy (networks of classes with host lists).</param>
    /// <param name="cancellationToken">Cancels waiting (the setup itself goes on for the next caller).</param>
    /// <exception cref="EgressFirewallException">The firewall rules could not be installed.</exception>
    /// <exception cref="InvalidOperationException">The bridge does not exist on this host or has no IPv4 address.</exception>
    public async Task<IPEndPoint> EnsureAsync(string bridgeInterface, bool transparent, CancellationToken cancellationToken)
    {
        var lazy = _proxies.GetOrAdd(bridgeInterface, bridge => new Lazy<Task<EgressProxy>>(() => StartAsync(bridge, transparent)));
        try
        {
            var proxy = await lazy.Value.WaitAsync(cancellationToken);
            return proxy.LocalEndPoint!;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _proxies.TryRemove(new KeyValuePair<string, Lazy<Task<EgressProxy>>>(bridgeInterface, lazy));
            throw;
        }
    }

    private async Task<EgressProxy> StartAsync(string bridge, bool transparent)
    {
        var address = BridgeAddress(bridge)
            ?? throw new InvalidOperationException($"Bridge '{bridge}' does not exist on this host or has no IPv4 address; the egress proxy listens on it.");
        var proxy = new EgressProxy(Clients, _resolver, Options.Create(_options), _time, _loggers.CreateLogger<EgressProxy>());
        try
        {
            await proxy.StartAsync(new IPEndPoint(address, _options.ProxyPort), CancellationToken.None);
            if (_options.ManageFirewall)
            {
                await _firewall.EnsureAsync(bridge, _options.ProxyPort, transparent, CancellationToken.None);
            }

            return proxy;
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
    }

    /// <summary>The IPv4 address of host interface <paramref name="bridge"/>, or <see langword="null"/>.</summary>
    public static IPAddress? BridgeAddress(string bridge) =>
        NetworkInterface.GetAllNetworkInterfaces()
            .FirstOrDefault(n => n.Name == bridge)?
            .GetIPProperties().UnicastAddresses
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);

    /// <summary>Stops the proxies and removes the firewall rules this node installed.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var (bridge, lazy) in _proxies)
        {
            if (!lazy.IsValueCreated || !lazy.Value.IsCompletedSuccessfully)
            {
                continue;
            }

            await lazy.Value.Result.DisposeAsync();
            if (_options.ManageFirewall)
            {
                try
                {
                    await _firewall.RemoveAsync(bridge, _options.ProxyPort, CancellationToken.None);
                }
                catch (EgressFirewallException)
                {
                    // Best effort: the rules name a bridge that goes away with its network.
                }
            }
        }

        _proxies.Clear();
    }
}
