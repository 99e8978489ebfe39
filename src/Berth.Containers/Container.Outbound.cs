using System.Collections.Concurrent;
using System.Net;
using Berth.Egress;
using Berth.Runtime;

namespace Berth.Containers;

/// <summary>
/// The outbound (egress) side of a container object: what its container may reach, enforced by the node's network,
/// and the outbound handlers through which the object itself answers its container's HTTP requests.
/// </summary>
public abstract partial class Container : IContainerOutbound
{
    private readonly ConcurrentDictionary<Guid, OutboundExchange> _outboundPending = new();
    private readonly ConcurrentDictionary<Guid, OutboundExchange> _outboundRunning = new();
    private IDisposable? _egressRegistration;
    private EgressClient? _egress;
    private ContainerOutboundHandler? _outbound;

    /// <summary>
    /// Whether the container may reach the internet. Off, it has no route out at all (TCP, UDP, DNS): its outbound HTTP
    /// and TLS end at the node's egress proxy, which refuses them. The app's config (<c>enable_internet</c>) and
    /// <see cref="ContainerStartOptions.EnableInternet"/> override it.
    /// </summary>
    /// <value>Defaults to <see langword="true"/> (the seed's default).</value>
    protected bool EnableInternet { get; set; } = true;

    /// <summary>
    /// Host globs the container may reach (<c>*.example.com</c>, <c>api.*.internal</c>; see <see cref="HostGlob"/>).
    /// Non-empty, every other host is refused; plain HTTP is matched on the Host header, HTTPS on the CONNECT host or the
    /// TLS SNI. The config's <c>allowed_hosts</c> replaces the list.
    /// </summary>
    /// <value>Defaults to empty: every host not in <see cref="DeniedHosts"/>.</value>
    protected IList<string> AllowedHosts { get; } = new List<string>();

    /// <summary>Host globs the container may never reach; they win over <see cref="AllowedHosts"/>. The config's <c>denied_hosts</c> replaces the list.</summary>
    /// <value>Defaults to empty.</value>
    protected IList<string> DeniedHosts { get; } = new List<string>();

    /// <summary>
    /// Outbound handlers by host: the container's plain-HTTP request to a host named here (<c>curl http://api.internal/x</c>)
    /// is answered by the handler, in this object, with its storage at hand (the seed's <c>workersAddress</c> pattern),
    /// whatever <see cref="EnableInternet"/> and the host lists say. Keys are exact host names (<c>api.internal</c>) or
    /// globs (<c>*.internal</c>, see <see cref="HostGlob"/>), case-insensitive; an exact name wins over every glob, and
    /// among globs the longest pattern wins. Exact names resolve in the container (its hosts file points them at the
    /// node's egress proxy); a glob's hosts are reached through <c>HTTP_PROXY</c> (set for you) or any name that resolves.
    /// TLS to a host named here is refused (the proxy holds no certificate and never terminates TLS): use <c>http://</c>.
    /// Read when the container starts: changes apply to the next start.
    /// </summary>
    /// <value>Defaults to empty.</value>
    protected IDictionary<string, OutboundRequestHandler> OutboundByHost { get; } = new Dictionary<string, OutboundRequestHandler>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The catch-all outbound handler: answers the container's plain-HTTP requests to every host no
    /// <see cref="OutboundByHost"/> entry names, before the egress policy (TLS to those hosts follows the policy).
    /// Read when the container starts.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: hosts without a by-host handler follow the egress policy.</value>
    protected OutboundRequestHandler? Outbound { get; set; }

    /// <summary>Bytes the current container sent out through the egress proxy, in bytes; 0 when its class is not filtered.</summary>
    protected long EgressBytesOut => _egress?.BytesOut ?? 0;

    /// <summary>Bytes the current container received through the egress proxy, in bytes; 0 when its class is not filtered.</summary>
    protected long EgressBytesIn => _egress?.BytesIn ?? 0;

    /// <summary>The class's egress policy for one start: start options, then the app's config, then the class's code.</summary>
    /// <exception cref="ArgumentException">A host pattern is not valid.</exception>
    private EgressPolicy EgressPolicyFor(ContainerStartOptions? options) =>
        EgressPolicy.Create(
            options?.EnableInternet ?? _class.Options.EnableInternet ?? EnableInternet,
            _class.Options.AllowedHosts ?? AllowedHosts,
            _class.Options.DeniedHosts ?? DeniedHosts);

    /// <summary>
    /// Makes sure the network of one start exists: the class's outbound handlers are read now (a class with handlers joins
    /// the <c>-egress</c> network, so its HTTP reaches the proxy, internet on or off).
    /// </summary>
    /// <exception cref="ArgumentException">An <see cref="OutboundByHost"/> key is not a valid host name or glob.</exception>
    private async Task<ContainerNetwork> EnsureEgressNetworkAsync(EgressPolicy policy, CancellationToken cancellationToken)
    {
        _outbound = null;
        if (Outbound is not null || OutboundByHost.Count > 0)
        {
            var byPattern = new Dictionary<string, OutboundRequestHandler>(OutboundByHost, StringComparer.OrdinalIgnoreCase);
            _outbound = new ContainerOutboundHandler(OutboundRouteTable.Create(byPattern.Keys, Outbound is not null), byPattern, Outbound,
                this.AsReference<IContainerOutbound>(), _outboundPending);
        }

        return await _networks.EnsureAsync(policy, _outbound is not null, cancellationToken);
    }

    /// <summary>Hosts-file entries pointing the exact hosts of the outbound handlers at the egress proxy (none without a proxy).</summary>
    private IReadOnlyList<string> OutboundExtraHosts(ContainerNetwork network) =>
        _outbound is { } outbound && network.Proxy is { } proxy
            ? outbound.Routes.ExactHosts.Where(h => !IPAddress.TryParse(h, out _)).Select(h => $"{h}:{proxy.Address}").ToArray()
            : [];

    /// <inheritdoc />
    Task IContainerOutbound.BeginOutboundAsync(Guid exchangeId, CancellationToken cancellationToken)
    {
        if (!_outboundPending.TryRemove(exchangeId, out var exchange))
        {
            throw new KeyNotFoundException($"Container object {Context.Id} has no pending outbound request {exchangeId}.");
        }

        _outboundRunning[exchange.Id] = exchange;

        // Work the object owns, on its scheduler: the call returns now, the proxy waits on the exchange.
        _ = RunOutboundAsync(exchange);
        return Task.CompletedTask;
    }

    private async Task RunOutboundAsync(OutboundExchange exchange)
    {
        // The request is activity: the container does not sleep under a handler.
        var lease = _lease;
        lease?.Hold();
        try
        {
            await exchange.Handler(exchange.Request, exchange.Response, exchange.Token);
            exchange.Done.TrySetResult();
        }
        catch (Exception ex)
        {
            exchange.Done.TrySetException(ex);
        }
        finally
        {
            _outboundRunning.TryRemove(exchange.Id, out _);
            lease?.Exit();
        }
    }

    /// <summary>Registers the started container's address with the egress proxy, so its connections meet its policy.</summary>
    private async Task RegisterEgressAsync(string containerId, ContainerNetwork network, EgressPolicy policy, string? knownAddress, CancellationToken cancellationToken)
    {
        CloseEgress();
        if (network.Egress is null)
        {
            return;
        }

        var address = knownAddress ?? (await _runtime.InspectAsync(containerId, cancellationToken))?.IpAddress;
        if (address is not null && IPAddress.TryParse(address, out var ip))
        {
            // Not registered (no address yet) means refused: the proxy closes connections from unknown addresses.
            _egress = new EgressClient($"{ClassName} {Context.Id}", policy, _logger) { Outbound = _outbound };
            _egressRegistration = network.Egress.Clients.Register(ip, _egress);
        }
    }

    /// <summary>Registers an adopted container (after a restart of the platform) with the egress proxy.</summary>
    private async Task AdoptEgressAsync(string containerId, ContainerInspection status, CancellationToken cancellationToken)
    {
        try
        {
            var policy = EgressPolicyFor(null);
            var network = await EnsureEgressNetworkAsync(policy, cancellationToken);
            if (status.Network == network.Name)
            {
                await RegisterEgressAsync(containerId, network, policy, status.IpAddress, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is EgressFirewallException or InvalidOperationException or ContainerRuntimeException or ArgumentException)
        {
            // The adopted container keeps running unregistered: the proxy refuses its connections (fail closed).
            EgressLog.AdoptFailed(_logger, ClassName, Context.Id.ToString(), ex.Message);
        }
    }

    private void CloseEgress()
    {
        _egressRegistration?.Dispose();
        _egressRegistration = null;

        // Handlers still running answer a container that is gone (or an object that deactivates): cancel them, and let
        // the proxy's side end now rather than wait on a handler that may never be scheduled again.
        foreach (var exchange in _outboundRunning.Values)
        {
            exchange.Cancel();
            exchange.Done.TrySetCanceled();
        }
    }
}

internal static partial class EgressLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(Berth.Diagnostics.BerthEventIds.Containers + 90, Microsoft.Extensions.Logging.LogLevel.Warning,
        "Container {ClassName} {ObjectId} adopted, but its egress path could not be set up; its outbound connections are refused: {Message}", EventName = "EgressAdoptFailed")]
    public static partial void AdoptFailed(Microsoft.Extensions.Logging.ILogger logger, string className, string objectId, string message);
}
