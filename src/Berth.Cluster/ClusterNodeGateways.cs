using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Berth.Containers;
using Berth.Gateway;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace Berth.Cluster;

/// <summary>
/// Every node's gateway URL in <c>berth_node_gateways</c> and the cluster's hop secret in <c>berth_cluster_secrets</c>:
/// each node records its URL once its server listens, and with <see cref="BerthClusterSettings.NodeForwarding"/> reads the
/// secret at start and looks other nodes' URLs up (cached) to forward through them (<see cref="INodeHop"/>).
/// </summary>
public sealed partial class ClusterNodeGateways : IHostedLifecycleService, INodeHop
{
    /// <summary>How long a node's URL is used before it is read again (30 s); a failed hop forgets it at once.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    private const string SecretName = "hop";

    private readonly ConcurrentDictionary<string, (string Prefix, long ReadAt)> _cache = new(StringComparer.Ordinal);
    private readonly BerthClusterSettings _settings;
    private readonly IOptions<ClusterOptions> _cluster;
    private readonly IOptions<EndpointOptions> _endpoints;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly ILogger<ClusterNodeGateways> _logger;
    private NodeHopSigner? _signer;

    /// <summary>Creates the directory; <see cref="StartAsync"/> reads the secret, <see cref="StartedAsync"/> records the URL.</summary>
    public ClusterNodeGateways(BerthClusterSettings settings, IOptions<ClusterOptions> cluster, IOptions<EndpointOptions> endpoints,
        IOptions<ContainerOptions> containers, IServiceProvider services, TimeProvider timeProvider, ILogger<ClusterNodeGateways> logger)
    {
        ArgumentNullException.ThrowIfNull(containers);
        _settings = settings;
        _cluster = cluster;
        _endpoints = endpoints;
        _services = services;
        _time = timeProvider;
        _logger = logger;
        NodeId = containers.Value.NodeId;
    }

    /// <inheritdoc />
    public string NodeId { get; }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">Read before the node started (the secret is read at start).</exception>
    public NodeHopSigner Signer => _signer ?? throw new InvalidOperationException("The cluster's hop secret is read when the node starts.");

    /// <summary>This node's recorded gateway URL once it started; <see langword="null"/> before, or when none could be determined.</summary>
    public Uri? Url { get; private set; }

    /// <inheritdoc />
    public System.Net.Security.SslClientAuthenticationOptions? ClientTls => _settings.Tls?.CreateClientOptions(_logger);

    /// <inheritdoc />
    /// <remarks>
    /// With TLS: the hop listener's port and a client certificate (the listener requires one the cluster's CA signed), so a
    /// hop header sent in plain HTTP to the public gateway is not taken even by someone who read the hop secret from the
    /// cluster's database; with TLS and no hop listener (<c>direct</c> forwarding), no connection takes hops.
    /// </remarks>
    public bool AcceptsHopsOn(Microsoft.AspNetCore.Http.HttpContext context) =>
        _settings.Tls is null
        || (_settings.HopUrl is { } hop && context.Connection.ClientCertificate is not null && context.Connection.LocalPort == hop.Port);

    private bool Hops => _settings.Forwarding == BerthClusterSettings.NodeForwarding;

    /// <inheritdoc />
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Hops)
        {
            _signer = new NodeHopSigner(await ReadSecretAsync(_settings.Connection!, _cluster.Value.ClusterId, cancellationToken), _time);
        }
    }

    /// <summary>Records this node's gateway URL, now that the server listens and its port is known.</summary>
    /// <exception cref="InvalidOperationException">With forwarding through nodes, the URL could not be determined: the message names <see cref="BerthClusterSettings.AdvertiseUrlKey"/>.</exception>
    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        // With TLS the other nodes hop to the hop listener; the public gateway stays as configured.
        var url = _settings.HopUrl ?? _settings.AdvertiseUrl ?? DefaultUrl();
        if (url is null)
        {
            if (Hops)
            {
                throw new InvalidOperationException($"{BerthClusterSettings.AdvertiseUrlKey} is required with {BerthClusterSettings.ForwardingKey} = '{BerthClusterSettings.NodeForwarding}' " +
                    "when the node's HTTP port cannot be determined; allowed: an http:// or https:// URL such as 'http://10.0.0.5:8080' that other nodes reach this node's gateway on.");
            }

            Log.NodeGatewayUnknown(_logger, NodeId);
            return;
        }

        await RecordAsync(_settings.Connection!, _cluster.Value.ClusterId, NodeId, url.GetLeftPart(UriPartial.Authority), cancellationToken);
        Url = url;
        Log.NodeGatewayRecorded(_logger, NodeId, url.GetLeftPart(UriPartial.Authority), _settings.Forwarding);
    }

    /// <inheritdoc />
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public async ValueTask<string?> GetGatewayPrefixAsync(string nodeId, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(nodeId, out var cached) && _time.GetElapsedTime(cached.ReadAt) < CacheFor)
        {
            return cached.Prefix;
        }

        var url = await ReadUrlAsync(_settings.Connection!, _cluster.Value.ClusterId, nodeId, cancellationToken);
        if (url is null)
        {
            // Not cached: a node that just started records its URL moments after it joined.
            return null;
        }

        if (_settings.Tls is not null && !url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            // With TLS between nodes every node records its https hop listener: a plain URL in the table (written by anyone
            // who can write the database, or an answer rewritten on an unencrypted database connection) would send tenants'
            // requests in clear to wherever it points. Treated as no URL (502 node_unreachable); not cached, so a fixed row is
            // used at once.
            Log.PlainGatewayRefused(_logger, nodeId, url);
            return null;
        }

        var prefix = url.TrimEnd('/') + "/";
        _cache[nodeId] = (prefix, _time.GetTimestamp());
        return prefix;
    }

    /// <inheritdoc />
    public void Forget(string nodeId) => _cache.TryRemove(nodeId, out _);

    /// <summary><c>http://{advertised address}:{first http port the server listens on}</c>, or <see langword="null"/>.</summary>
    private Uri? DefaultUrl()
    {
        var addresses = _services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        var address = _endpoints.Value.AdvertisedIPAddress;
        if (addresses is null || address is null || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return null;
        }

        foreach (var listening in addresses)
        {
            var binding = BindingAddress.Parse(listening);
            if (binding.Scheme == "http" && binding.Port > 0)
            {
                var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
                return new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{host}:{binding.Port}"));
            }
        }

        return null;
    }

    /// <summary>The cluster's hop secret, generated by the first node that asks (32 random bytes).</summary>
    /// <exception cref="NpgsqlException">PostgreSQL cannot be reached.</exception>
    internal static async Task<byte[]> ReadSecretAsync(string connectionString, string clusterId, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO berth_cluster_secrets (cluster_id, name, secret) VALUES (@cluster, @name, @secret) ON CONFLICT (cluster_id, name) DO NOTHING;
            SELECT secret FROM berth_cluster_secrets WHERE cluster_id = @cluster AND name = @name;
            """, connection);
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("name", SecretName);
        command.Parameters.AddWithValue("secret", RandomNumberGenerator.GetBytes(32));
        return (byte[])(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Upserts a node's gateway URL.</summary>
    internal static async Task RecordAsync(string connectionString, string clusterId, string nodeId, string url, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO berth_node_gateways (cluster_id, node_id, url, updated_at) VALUES (@cluster, @node, @url, now())
            ON CONFLICT (cluster_id, node_id) DO UPDATE SET url = EXCLUDED.url, updated_at = now()
            """, connection);
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("node", nodeId);
        command.Parameters.AddWithValue("url", url);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<string?> ReadUrlAsync(string connectionString, string clusterId, string nodeId, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT url FROM berth_node_gateways WHERE cluster_id = @cluster AND node_id = @node", connection);
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("node", nodeId);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    private static partial class Log
    {
        // The node gateways and the hop: BerthEventIds.Cluster + 20 and up (2620–2629).
        [LoggerMessage(Berth.Diagnostics.BerthEventIds.Cluster + 20, LogLevel.Information, "Node {NodeId}'s gateway is recorded at {Url} for the other nodes (forwarding: {Forwarding})", EventName = "NodeGatewayRecorded")]
        public static partial void NodeGatewayRecorded(ILogger logger, string nodeId, string url, string forwarding);

        [LoggerMessage(Berth.Diagnostics.BerthEventIds.Cluster + 21, LogLevel.Warning, "Node {NodeId}'s gateway URL could not be determined (no http port or advertised address; set Berth:Cluster:AdvertiseUrl): nodes forwarding through nodes cannot reach it", EventName = "NodeGatewayUnknown")]
        public static partial void NodeGatewayUnknown(ILogger logger, string nodeId);

        [LoggerMessage(Berth.Diagnostics.BerthEventIds.Cluster + 23, LogLevel.Warning, "Node {NodeId}'s recorded gateway URL {Url} is not https while TLS between nodes is on (Berth:Cluster:Tls): no hop is sent there; check berth_node_gateways and that node's Berth:Cluster:HopUrl", EventName = "PlainGatewayRefused")]
        public static partial void PlainGatewayRefused(ILogger logger, string nodeId, string url);
    }
}

/// <summary>Registers <see cref="ClusterNodeGateways"/>.</summary>
public static class ClusterForwardingExtensions
{
    /// <summary>
    /// Every cluster node records its gateway URL at start; with <see cref="BerthClusterSettings.NodeForwarding"/> the node
    /// also forwards requests for containers other nodes run through their gateways (<see cref="INodeHop"/>); with TLS
    /// between nodes, over HTTPS to their hop listeners (<see cref="BerthClusterSettings.HopUrl"/>, served by this node too,
    /// which wraps the registered <see cref="Microsoft.AspNetCore.Hosting.Server.IServer"/>: call after it is registered). Call after the
    /// hosted service that applies <see cref="ClusterSchema"/>, so the tables exist when it starts.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="settings">The validated cluster settings.</param>
    public static IServiceCollection AddBerthClusterForwarding(this IServiceCollection services, BerthClusterSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        services.AddSingleton<ClusterNodeGateways>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterNodeGateways>());
        if (settings.Forwarding == BerthClusterSettings.NodeForwarding)
        {
            services.AddSingleton<INodeHop>(sp => sp.GetRequiredService<ClusterNodeGateways>());
            if (settings.HopUrl is not null)
            {
                ClusterHopListener.Register(services, settings);
            }
        }

        return services;
    }
}
