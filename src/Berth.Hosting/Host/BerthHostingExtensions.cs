using Berth.Cluster;
using Berth.Containers;
using Berth.Docker;
using Berth.Egress;
using Berth.Gateway;
using Berth.Objects;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>Adds the Berth platform to an ASP.NET Core (or generic) host.</summary>
public static class BerthHostingExtensions
{
    /// <summary>The configuration section Berth's options bind from (<c>Berth:Containers</c>, <c>Berth:Objects</c>, …).</summary>
    public const string SectionName = "Berth";

    /// <summary>The Orleans silo-to-silo port when <c>Berth:Cluster:SiloPort</c> is not set: 11111.</summary>
    public const int DefaultSiloPort = 11111;

    /// <summary>The Orleans client gateway port when <c>Berth:Cluster:GatewayPort</c> is not set: 30000.</summary>
    public const int DefaultGatewayPort = 30000;

    /// <summary>
    /// Adds the platform: an Orleans silo co-hosted in this process (localhost clustering by default), durable
    /// objects with SQLite storage and alarms, the Docker engine driver, container objects, the gateway's data
    /// plane and, with <see cref="BerthBuilder.UseConfigFile"/>, the app's config file, image builds and crons.
    /// The node's identity (<see cref="ContainerOptions.NodeId"/>) is kept in the data directory (<see cref="NodeIdentity"/>).
    /// Orleans, YARP and ASP.NET Core log at Warning unless configuration says otherwise (<see cref="BerthLogging.DefaultLevels"/>).
    /// Options bind from the <c>Berth</c> configuration section and are validated at start-up. The silo listens on
    /// <c>Berth:Cluster:SiloPort</c> (default <see cref="DefaultSiloPort"/>) and <c>Berth:Cluster:GatewayPort</c> (default
    /// <see cref="DefaultGatewayPort"/>) on loopback; when either is taken, the host's start fails with a
    /// <see cref="BerthStartupException"/> naming the port and the setting. With <c>BERTH_DEV=1</c> (set by <c>berth dev</c>)
    /// the host rebuilds images when their build contexts change and stops its containers when it stops.
    /// </summary>
    public static IHostApplicationBuilder AddBerth(this IHostApplicationBuilder builder, Action<BerthBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var berth = new BerthBuilder(builder);
        configure?.Invoke(berth);

        var services = builder.Services;
        BerthLogging.AddDefaultLevels(services);
        var section = builder.Configuration.GetSection(SectionName);
        services.AddOptions<ContainerOptions>().Bind(section.GetSection("Containers"));
        services.AddOptions<DurableObjectOptions>().Bind(section.GetSection("Objects"));
        var gateway = section.GetSection("Gateway");
        services.AddOptions<GatewayOptions>().Configure(o =>
        {
            // The binder's own failure for an unknown name ("Failed to convert ...") lists no allowed values.
            if (gateway[nameof(GatewayOptions.Forwarder)] is { Length: > 0 } forwarder && !Enum.TryParse<ContainerForwarderKind>(forwarder, ignoreCase: true, out _))
            {
                throw new OptionsValidationException(nameof(GatewayOptions), typeof(GatewayOptions),
                    [$"Berth:Gateway:Forwarder: '{forwarder}' is not allowed; use Http1 or Yarp."]);
            }

            gateway.Bind(o);
        });
        services.AddOptions<DockerRuntimeOptions>().Bind(section.GetSection("Docker"));
        services.AddOptions<Berth.Egress.EgressOptions>().Bind(section.GetSection("Egress"));
        services.AddOptions<RegistryOptions>().Bind(section.GetSection("Registry")).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RegistryOptions>, RegistryOptionsValidator>());
        // The node's versions of every class (issue 13), in {DataDirectory}/versions.db.
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SqliteClassVersionStore>();
        services.TryAddSingleton<IClassVersionStore>(sp => sp.GetRequiredService<SqliteClassVersionStore>());
        // The node's identity (which containers it reconciles, part of their names) lives in its data directory.
        services.AddSingleton<IPostConfigureOptions<ContainerOptions>, NodeIdentityOptions>();
        services.AddOptions<AdminOptions>().Configure<IOptions<DurableObjectOptions>>((admin, objects) => admin.DataDirectory = objects.Value.DataDirectory);

        if (berth.ConfigFilePath is { } path)
        {
            var config = BerthConfigFile.Load(path);
            builder.Configuration.AddBerthVars(config);
            services.AddBerthConfig(config);
            // The file names the app unless code chose a name (tests give each host its own).
            services.Configure<ContainerOptions>(options => options.AppName = options.AppName == new ContainerOptions().AppName ? config.Name : options.AppName);
            services.AddSingleton<IConfigureOptions<ContainerClassOptions>>(new ConfigFileClassOptions(config));
            services.TryAddSingleton<AppImageBuilder>();
            services.TryAddSingleton<IContainerImageProvider, ConfigFileImageProvider>();
            services.AddHostedService<AppImageWarmup>();
            // Versions (issue 13): a changed image or config at start-up is recorded and rolled out like a deploy.
            services.TryAddSingleton<ClassDeployer>();
            services.AddHostedService<ClassVersionStartup>();
        }

        // Metering (issue 15): before the silo, so its last flush runs after the silo stopped.
        services.AddBerthMetering();
        // Metrics, the Prometheus exporter and Orleans' activity propagation (Berth:Telemetry, docs/operations.md).
        BerthTelemetryExtensions.AddBerthTelemetry(builder, berth);

        var cluster = section.GetSection("Cluster");
        var clusterSettings = ReadClusterSettings(cluster);
        // Before the silo's own start: a taken silo or gateway port fails the start with one line naming the setting.
        services.AddHostedService<ClusterPortCheck>();
        if (clusterSettings.IsCluster)
        {
            // Also before the silo: the membership schema exists, and an unreachable database fails the start in one line.
            services.AddSingleton(clusterSettings);
            services.AddHostedService<ClusterDatabaseStartup>();
            // Every container carries the cluster's ID, and hand-overs select by it (BerthLabels.Cluster).
            // The same ID Orleans' ClusterOptions gets (UseBerthCluster), computed here: those options read ContainerOptions.
            services.AddOptions<ContainerOptions>().PostConfigure(
                containers => containers.ExtraLabels[BerthLabels.Cluster] = clusterSettings.ClusterId ?? containers.AppName);
            services.AddBerthClusterForwarding(clusterSettings); // each node's gateway URL; the hop through it with Forwarding = node
            services.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter, ClusterNodeHeader>();
            services.AddBerthClusterScheduling(cluster); // alarms and crons once for the cluster (issue 16 §5)
            services.AddBerthReplication(cluster); // object storage shipped to PostgreSQL before a call returns (issue 16 §3-4)
        }

        builder.UseOrleans(silo =>
        {
            var siloPort = cluster.GetValue("SiloPort", DefaultSiloPort);
            var gatewayPort = cluster.GetValue("GatewayPort", DefaultGatewayPort);
            if (clusterSettings.IsCluster)
            {
                silo.UseBerthCluster(clusterSettings, siloPort, gatewayPort);
            }
            else
            {
                silo.UseLocalhostClustering(siloPort: siloPort, gatewayPort: gatewayPort);
            }

            silo.AddDurableObjects();
            foreach (var configureSilo in berth.SiloConfigurations)
            {
                configureSilo(silo);
            }
        });

        services.AddDockerContainerRuntime();
        services.AddBerthEgress();
        services.AddBerthContainers();
        services.AddBerthGateway();
        services.AddBerthAdmin();
        services.AddOptions<BerthHealthOptions>().Bind(section.GetSection("Health"));
        services.AddBerthHealthChecks();

        // Under `berth dev`: rebuild on build-context changes, stop this host's containers when it stops. Registered after
        // the silo, so it stops first, while the objects can still stop their containers.
        if (berth.ConfigFilePath is not null && builder.Configuration[DevImageWatcher.EnabledKey] == "1")
        {
            services.AddHostedService<DevImageWatcher>();
        }

        return builder;
    }

    private static BerthClusterSettings ReadClusterSettings(IConfiguration cluster)
    {
        try
        {
            return BerthClusterSettings.Read(cluster);
        }
        catch (ArgumentException ex)
        {
            throw new BerthStartupException(ex.Message, ex);
        }
    }
}
