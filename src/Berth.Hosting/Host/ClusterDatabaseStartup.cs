using Berth.Cluster;
using Berth.Containers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Berth.Hosting;

/// <summary>
/// Before the silo starts in a PostgreSQL cluster: creates the membership schema (<see cref="ClusterSchema"/>) and records the
/// node in <c>berth_nodes</c>. When PostgreSQL cannot be reached, the host fails at start with one line naming
/// <c>Berth:Cluster:Connection</c>, instead of Orleans' retries.
/// </summary>
internal sealed partial class ClusterDatabaseStartup(
    BerthClusterSettings settings, IOptions<ClusterOptions> cluster, IOptions<EndpointOptions> endpoints, IOptions<ContainerOptions> containers,
    ILogger<ClusterDatabaseStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connection = settings.Connection!;
        try
        {
            await ClusterSchema.ApplyAsync(connection, cancellationToken);
            var endpoint = endpoints.Value;
            var silo = $"{endpoint.AdvertisedIPAddress}:{endpoint.SiloPort}";
            await ClusterSchema.RegisterNodeAsync(connection, cluster.Value.ClusterId, containers.Value.NodeId, settings.Location, silo, cancellationToken);
            Log.ClusterJoining(logger, cluster.Value.ClusterId, containers.Value.NodeId, settings.Location);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            var message = Message(ex.Message);
            Log.ClusterDatabaseUnavailable(logger, message);
            throw new BerthStartupException(message, ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The line a node that cannot use its cluster's database fails with.</summary>
    internal static string Message(string reason) =>
        $"Berth cannot use the cluster's PostgreSQL database ({reason.ReplaceLineEndings(" ")}). " +
        $"Check {BerthClusterSettings.ConnectionKey} (berth.jsonc cluster.connection) and that PostgreSQL accepts connections from this node.";
}
