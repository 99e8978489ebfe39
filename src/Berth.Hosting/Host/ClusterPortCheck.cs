using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Berth.Hosting;

/// <summary>
/// Before the silo starts, checks that its silo and gateway ports can be bound; when one cannot (another Berth app or
/// host on this machine has it), the host fails at start with one line naming the port and the setting that moves it
/// (<c>Berth:Cluster:SiloPort</c> / <c>Berth:Cluster:GatewayPort</c>), instead of Orleans' socket error.
/// </summary>
internal sealed partial class ClusterPortCheck(IOptions<EndpointOptions> endpoints, ILogger<ClusterPortCheck> logger) : IHostedService
{
    /// <summary>The configuration key of the silo-to-silo port.</summary>
    public const string SiloPortKey = "Berth:Cluster:SiloPort";

    /// <summary>The configuration key of the client gateway port.</summary>
    public const string GatewayPortKey = "Berth:Cluster:GatewayPort";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var options = endpoints.Value;
        Check(options.SiloListeningEndpoint ?? new IPEndPoint(options.AdvertisedIPAddress ?? IPAddress.Loopback, options.SiloPort), "silo", SiloPortKey);
        if (options.GatewayListeningEndpoint is { } gateway)
        {
            Check(gateway, "gateway", GatewayPortKey);
        }
        else if (options.GatewayPort != 0)
        {
            Check(new IPEndPoint(options.AdvertisedIPAddress ?? IPAddress.Loopback, options.GatewayPort), "gateway", GatewayPortKey);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The line a host that cannot bind <paramref name="endpoint"/> fails with.</summary>
    internal static string Message(string role, IPEndPoint endpoint, string key, string reason) =>
        $"Berth cannot listen on its Orleans {role} port {endpoint} ({reason}; is another Berth app or host running on this machine?). "
        + $"Set {key} (environment variable {key.Replace(":", "__", StringComparison.Ordinal)}) to a free port.";

    private void Check(IPEndPoint endpoint, string role, string key)
    {
        if (endpoint.Port == 0)
        {
            return;
        }

        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint);
            socket.Listen();
        }
        catch (SocketException ex)
        {
            var reason = ex.SocketErrorCode == SocketError.AddressAlreadyInUse ? "it is in use" : ex.Message;
            var message = Message(role, endpoint, key, reason);
            Log.ClusterPortUnavailable(logger, message);
            throw new BerthStartupException(message, ex);
        }
    }
}
