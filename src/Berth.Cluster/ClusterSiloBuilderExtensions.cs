using Berth.Cluster.Failover;
using Berth.Containers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Connections.Security;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Berth.Cluster;

/// <summary>Configures a node's silo for a cluster on PostgreSQL.</summary>
public static class ClusterSiloBuilderExtensions
{
    /// <summary>The ADO.NET invariant of Npgsql, which Orleans' ADO.NET clustering loads.</summary>
    public const string NpgsqlInvariant = "Npgsql";

    /// <summary>
    /// Joins the cluster <paramref name="settings"/> describe: Orleans ADO.NET membership on PostgreSQL, the cluster and
    /// service ID <see cref="BerthClusterSettings.ClusterId"/> (default: the app's name), the silo listening on
    /// <paramref name="siloPort"/> and <paramref name="gatewayPort"/> at <see cref="BerthClusterSettings.AdvertiseAddress"/>,
    /// the node's ID as its silo name, its location as silo metadata, and <see cref="LocationPlacement"/> as the default
    /// placement. Failure detection is tuned so a killed node is declared dead in about 6 seconds (probes every 2 s, 3 missed).
    /// Once active, the node removes the containers of dead nodes that shared its engine (unless
    /// <see cref="BerthClusterSettings.RemoveDeadNodeContainers"/> is false; see docs/cluster.md).
    /// With <see cref="BerthClusterSettings.Tls"/>, every silo and gateway connection is mutual TLS: each side presents the
    /// node's certificate and accepts only a node's certificate: an end entity that chains to the cluster's CA and is valid
    /// for its side (clientAuth from a connecting peer, serverAuth from a server; see <see cref="ClusterTlsSettings.IsTrusted(System.Security.Cryptography.X509Certificates.X509Certificate2, System.Security.Cryptography.X509Certificates.X509Chain?, ClusterPeerRole)"/>).
    /// A plain TCP peer, or one with another CA's certificate, fails the handshake.
    /// </summary>
    /// <param name="silo">The silo.</param>
    /// <param name="settings">The validated cluster settings; <see cref="BerthClusterSettings.IsCluster"/> must be true.</param>
    /// <param name="siloPort">The silo-to-silo port.</param>
    /// <param name="gatewayPort">The Orleans client gateway port.</param>
    /// <exception cref="ArgumentException"><paramref name="settings"/> is not a PostgreSQL cluster.</exception>
    public static ISiloBuilder UseBerthCluster(this ISiloBuilder silo, BerthClusterSettings settings, int siloPort, int gatewayPort)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.IsCluster)
        {
            throw new ArgumentException("Only a PostgreSQL cluster is configured with UseBerthCluster.", nameof(settings));
        }

        silo.UseAdoNetClustering(options =>
        {
            options.Invariant = NpgsqlInvariant;
            options.ConnectionString = settings.Connection;
        });
        if (settings.AdvertiseAddress is { } address)
        {
            silo.ConfigureEndpoints(address, siloPort, gatewayPort, listenOnAnyHostAddress: false);
        }
        else
        {
            silo.ConfigureEndpoints(siloPort, gatewayPort, listenOnAnyHostAddress: true);
        }

        if (settings.Tls is { } tls)
        {
            var refusals = new TlsRefusalLog();
            // What UseTls does, with one set of options per side instead of one for both: Orleans' validation callback is
            // not told which side it runs on, and a peer's certificate must be valid for its side's purpose. The listeners
            // (TlsServerConnectionMiddleware) see connecting peers, clients; outbound connections (TlsClientConnectionMiddleware) see servers.
            var inbound = SiloTlsOptions(tls, refusals, ClusterPeerRole.Client, "inbound silo connection");
            var outbound = SiloTlsOptions(tls, refusals, ClusterPeerRole.Server, "outbound silo connection");
            silo.Configure<SiloConnectionOptions>(connections =>
            {
                connections.ConfigureSiloInboundConnection(connection => connection.UseServerTls(inbound));
                connections.ConfigureGatewayInboundConnection(connection => connection.UseServerTls(inbound));
                connections.ConfigureSiloOutboundConnection(connection => connection.UseClientTls(outbound));
            });
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => refusals.Start(sp.GetRequiredService<ILogger<ClusterTlsSettings>>()));
        }

        silo.UseSiloMetadata(new Dictionary<string, string> { [LocationPlacement.LocationMetadataKey] = settings.Location });
        var services = silo.Services;
        services.AddOptions<ClusterOptions>().Configure<IOptions<ContainerOptions>>((cluster, containers) =>
        {
            cluster.ClusterId = settings.ClusterId ?? containers.Value.AppName;
            cluster.ServiceId = cluster.ClusterId;
        });
        services.AddOptions<SiloOptions>().Configure<IOptions<ContainerOptions>>((options, containers) => options.SiloName = containers.Value.NodeId);
        services.Configure<ClusterMembershipOptions>(options =>
        {
            options.ProbeTimeout = TimeSpan.FromSeconds(2);
            options.NumMissedProbesLimit = 3;
            options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
        });
        services.AddSingleton<PlacementStrategy>(LocationPlacement.Singleton);
        services.AddPlacementDirector<LocationPlacement, LocationPlacementDirector>();
        services.AddSingleton(settings);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<DeadNodeContainers>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<DeadNodeContainers>());
        return silo;
    }

    private static TlsOptions SiloTlsOptions(ClusterTlsSettings tls, TlsRefusalLog refusals, ClusterPeerRole peer, string where) => new()
    {
        LocalCertificate = tls.Certificate,
        RemoteCertificateMode = RemoteCertificateMode.RequireCertificate,
        ClientCertificateMode = RemoteCertificateMode.RequireCertificate,
        CheckCertificateRevocation = false,
        // Replaces the machine store's verdict (which knows nothing of the cluster's CA): the CA alone decides.
        RemoteCertificateValidation = (certificate, chain, _) => tls.IsTrusted(certificate, chain, peer, refusals.Logger, where),
    };

    /// <summary>
    /// The logger of refused silo peers: Orleans takes its TLS options before the container exists, so the logger is set
    /// when the silo resolves its lifecycle participants, before its listeners accept or it connects anywhere.
    /// </summary>
    private sealed class TlsRefusalLog : ILifecycleParticipant<ISiloLifecycle>
    {
        public ILogger? Logger { get; private set; }

        public TlsRefusalLog Start(ILogger logger)
        {
            Logger = logger;
            return this;
        }

        public void Participate(ISiloLifecycle lifecycle)
        {
        }
    }
}
