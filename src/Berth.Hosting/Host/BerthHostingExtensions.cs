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

    /// <summary>
    /// Adds the platform: an Orleans silo co-hosted in this process (localhost clustering by default), durable
    /// objects with SQLite storage and alarms, the Docker engine driver, container objects, the gateway's data
    /// plane and, with <see cref="BerthBuilder.UseConfigFile"/>, the app's config file, image builds and crons.
    /// The node's identity (<see cref="ContainerOptions.NodeId"/>) is kept in the data directory (<see cref="NodeIdentity"/>).
    /// Options bind from the <c>Berth</c> configuration section and are validated at start-up.
    /// </summary>
    public static IHostApplicationBuilder AddBerth(this IHostApplicationBuilder builder, Action<BerthBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var berth = new BerthBuilder(builder);
        configure?.Invoke(berth);

        var services = builder.Services;
        var section = builder.Configuration.GetSection(SectionName);
        services.AddOptions<ContainerOptions>().Bind(section.GetSection("Containers"));
        services.AddOptions<DurableObjectOptions>().Bind(section.GetSection("Objects"));
        services.AddOptions<GatewayOptions>().Bind(section.GetSection("Gateway"));
        services.AddOptions<DockerRuntimeOptions>().Bind(section.GetSection("Docker"));
        services.AddOptions<Berth.Egress.EgressOptions>().Bind(section.GetSection("Egress"));
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
        }

        var cluster = section.GetSection("Cluster");
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(
                siloPort: cluster.GetValue("SiloPort", 11111),
                gatewayPort: cluster.GetValue("GatewayPort", 30000));
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
        return builder;
    }
}
