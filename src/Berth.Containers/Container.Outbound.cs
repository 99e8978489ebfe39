using System.Net;
using Berth.Egress;
using Berth.Runtime;

namespace Berth.Containers;

/// <summary>The outbound (egress) side of a container object: what its container may reach, enforced by the node's network.</summary>
public abstract partial class Container
{
    private IDisposable? _egressRegistration;
    private EgressClient? _egress;

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
            _egress = new EgressClient($"{ClassName} {Context.Id}", policy, _logger);
            _egressRegistration = network.Egress.Clients.Register(ip, _egress);
        }
    }

    /// <summary>Registers an adopted container (after a restart of the platform) with the egress proxy.</summary>
    private async Task AdoptEgressAsync(string containerId, ContainerInspection status, CancellationToken cancellationToken)
    {
        try
        {
            var policy = EgressPolicyFor(null);
            var network = await _networks.EnsureAsync(policy, cancellationToken);
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
    }
}

internal static partial class EgressLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(Berth.Diagnostics.BerthEventIds.Containers + 90, Microsoft.Extensions.Logging.LogLevel.Warning,
        "Container {ClassName} {ObjectId} adopted, but its egress path could not be set up; its outbound connections are refused: {Message}", EventName = "EgressAdoptFailed")]
    public static partial void AdoptFailed(Microsoft.Extensions.Logging.ILogger logger, string className, string objectId, string message);
}
