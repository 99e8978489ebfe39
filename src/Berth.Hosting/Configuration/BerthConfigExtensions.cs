using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>Registers an app's <c>berth.jsonc</c> with the host.</summary>
public static class BerthConfigExtensions
{
    /// <summary>The configuration key <c>keep_versions</c> feeds (<see cref="RegistryOptions.KeepVersions"/>).</summary>
    public const string KeepVersionsKey = "Berth:Registry:KeepVersions";

    /// <summary>
    /// Loads <paramref name="path"/> (default <c>berth.jsonc</c>, relative to the content root), makes its <c>vars</c>
    /// configuration keys with the lowest precedence (so <c>appsettings.json</c>, environment variables and the command
    /// line override them), and registers the config as <see cref="BerthAppConfig"/> and <see cref="IOptions{TOptions}"/>.
    /// </summary>
    /// <exception cref="BerthConfigException">The file is missing or invalid: the app refuses to start and says why.</exception>
    public static IHostApplicationBuilder AddBerthConfig(this IHostApplicationBuilder builder, string path = BerthConfigFile.DefaultFileName)
    {
        var config = BerthConfigFile.Load(Path.Combine(builder.Environment.ContentRootPath, path));
        builder.Configuration.AddBerthVars(config);
        builder.Services.AddBerthConfig(config);
        return builder;
    }

    /// <summary>
    /// Loads and validates <paramref name="path"/> (relative to the current directory) now, so a bad file stops the app
    /// at start-up, and registers it as <see cref="BerthAppConfig"/> and <see cref="IOptions{TOptions}"/>.
    /// </summary>
    /// <exception cref="BerthConfigException">The file is missing or invalid; the message lists every problem.</exception>
    public static IServiceCollection AddBerthConfig(this IServiceCollection services, string path) =>
        services.AddBerthConfig(BerthConfigFile.Load(path));

    /// <summary>Registers an already loaded config as <see cref="BerthAppConfig"/> and <see cref="IOptions{TOptions}"/>.</summary>
    public static IServiceCollection AddBerthConfig(this IServiceCollection services, BerthAppConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        services.RemoveAll<BerthAppConfig>();
        services.RemoveAll<IOptions<BerthAppConfig>>();
        services.AddSingleton(config);
        services.AddSingleton(Options.Create(config));
        return config.Crons.Count > 0 ? services.AddCronTriggerService() : services;
    }

    /// <summary>
    /// Adds the config's <c>vars</c> as top-level configuration keys (<c>configuration["GREETING"]</c>), and its
    /// <c>keep_versions</c> as <c>Berth:Registry:KeepVersions</c> and its <c>cluster</c> fields as <c>Berth:Cluster:*</c>, inserted first so that every other source overrides them.
    /// </summary>
    public static IConfigurationBuilder AddBerthVars(this IConfigurationBuilder configuration, BerthAppConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var data = config.Vars.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value)).ToList();
        if (config.KeepVersions is { } keep)
        {
            data.Add(KeyValuePair.Create(KeepVersionsKey, (string?)keep.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        if (config.Cluster is { } cluster)
        {
            foreach (var (key, value) in new[] { ("Provider", cluster.Provider), ("Connection", cluster.Connection), ("ClusterId", cluster.ClusterId), ("Forwarding", cluster.Forwarding) })
            {
                if (value is not null)
                {
                    data.Add(KeyValuePair.Create($"Berth:Cluster:{key}", (string?)value));
                }
            }
        }

        data.AddRange(config.Metering?.ConfigurationKeys() ?? []);
        var source = new MemoryConfigurationSource { InitialData = data };
        configuration.Sources.Insert(0, source);
        return configuration;
    }
}
