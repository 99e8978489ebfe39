using Berth.Containers;
using Berth.Docker;
using Berth.Gateway;
using Berth.Objects;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Berth.Hosting;

/// <summary>Configures a Berth app: its config file, container classes, durable objects, crons and options.</summary>
public sealed class BerthBuilder
{
    internal BerthBuilder(IHostApplicationBuilder host) => Host = host;

    /// <summary>The host being configured.</summary>
    public IHostApplicationBuilder Host { get; }

    /// <summary>The app's services.</summary>
    public IServiceCollection Services => Host.Services;

    internal string? ConfigFilePath { get; private set; }

    internal List<Action<ISiloBuilder>> SiloConfigurations { get; } = [];

    /// <summary>
    /// Reads the app's config file (<c>berth.jsonc</c>: <c>name</c>, <c>containers[]</c>, <c>durable_objects</c>,
    /// <c>triggers.crons</c>, <c>vars</c>) relative to the content root. A bad file stops the app at start-up
    /// with a message naming the field, the value and what is allowed.
    /// </summary>
    public BerthBuilder UseConfigFile(string path = BerthConfigFile.DefaultFileName)
    {
        ConfigFilePath = Path.IsPathRooted(path) ? path : Path.Combine(Host.Environment.ContentRootPath, path);
        return this;
    }

    /// <summary>Registers a container class; its <c>containers[]</c> entry (matched by class name) gives its image and limits.</summary>
    public BerthBuilder AddContainer<TContainer>(Action<ContainerClassOptions>? configure = null)
        where TContainer : Container
    {
        Services.AddContainer<TContainer>(configure);
        return this;
    }

    /// <summary>Binds a durable object class to a namespace; inject <see cref="DurableObjectNamespace{TObject}"/> to reach it.</summary>
    public BerthBuilder AddDurableObject<TInterface, TImplementation>(string bindingName)
        where TInterface : IDurableObject
        where TImplementation : DurableObject, TInterface
    {
        Services.AddDurableObject<TInterface, TImplementation>(bindingName);
        return this;
    }

    /// <summary>Registers a handler for the crons in the config's <c>triggers.crons</c>.</summary>
    public BerthBuilder AddScheduledHandler<THandler>()
        where THandler : class, IScheduledHandler
    {
        Services.AddScheduledHandler<THandler>();
        return this;
    }

    /// <summary>Runs <paramref name="handler"/> at each occurrence of a five-field cron expression (UTC).</summary>
    public BerthBuilder AddCronTrigger(string cron, Func<ScheduledEvent, IServiceProvider, CancellationToken, Task> handler)
    {
        Services.AddCronTrigger(cron, handler);
        return this;
    }

    /// <summary>Changes node-wide container settings (timeouts, stop grace, labels).</summary>
    public BerthBuilder ConfigureContainers(Action<ContainerOptions> configure)
    {
        Services.Configure(configure);
        return this;
    }

    /// <summary>Changes durable object settings (data directory, idle timeout, storage limit, alarm retries).</summary>
    public BerthBuilder ConfigureObjects(Action<DurableObjectOptions> configure)
    {
        Services.Configure(configure);
        return this;
    }

    /// <summary>Changes the gateway's data plane settings.</summary>
    public BerthBuilder ConfigureGateway(Action<GatewayOptions> configure)
    {
        Services.Configure(configure);
        return this;
    }

    /// <summary>Changes how the Docker engine is reached.</summary>
    public BerthBuilder ConfigureDocker(Action<DockerRuntimeOptions> configure)
    {
        Services.Configure(configure);
        return this;
    }

    /// <summary>Changes the Orleans silo (clustering, placement, more grains).</summary>
    public BerthBuilder ConfigureSilo(Action<ISiloBuilder> configure)
    {
        SiloConfigurations.Add(configure);
        return this;
    }
}
