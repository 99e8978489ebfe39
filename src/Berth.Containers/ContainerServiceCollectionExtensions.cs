using Microsoft.Extensions.DependencyInjection;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;

namespace Berth.Containers;

/// <summary>Registers container objects.</summary>
public static class ContainerServiceCollectionExtensions
{
    /// <summary>Adds the services container objects need (a container runtime must be added separately).</summary>
    public static IServiceCollection AddBerthContainers(this IServiceCollection services, Action<ContainerOptions>? configure = null)
    {
        var options = services.AddOptions<ContainerOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ContainerOptions>, ContainerOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ContainerClassOptions>, ContainerClassOptionsValidator>());
        services.AddOptions<ContainerExecOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ContainerExecOptions>, ContainerExecOptionsValidator>());
        services.TryAddSingleton<IContainerProbe, NetworkContainerProbe>();
        services.AddContainerRuntimeOperations();

        // Callers wait on container objects in slices of CallSlice: the RPC response timeout must outlast several slices.
        services.AddOptions<SiloMessagingOptions>().PostConfigure<IOptions<ContainerOptions>>((messaging, containers) =>
        {
            var floor = containers.Value.CallSlice * 3;
            if (messaging.ResponseTimeout < floor)
            {
                messaging.ResponseTimeout = floor;
            }
        });
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ContainerLeaseRegistry>();
        services.TryAddSingleton<RemoteActivityTracker>();
        services.AddHostedService(sp => sp.GetRequiredService<RemoteActivityTracker>());
        services.TryAddSingleton<ContainerNetworks>();
        services.TryAddSingleton<ContainerDiskWatch>();
        services.TryAddSingleton<ContainerHttpClient>();
        services.TryAddSingleton(sp => BuildRegistry(sp));
        services.AddOptions<WarmPoolOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WarmPoolOptions>, WarmPoolOptionsValidator>());
        services.TryAddSingleton(sp => new WarmPool(sp.GetRequiredService<IContainerOperations>(), sp.GetRequiredService<IContainerProbe>(),
            sp.GetRequiredService<ContainerLeaseRegistry>(), sp.GetRequiredService<IOptions<ContainerOptions>>(), sp.GetRequiredService<IOptions<WarmPoolOptions>>(),
            sp.GetRequiredService<IOptions<Berth.Objects.DurableObjectOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<WarmPool>>()));
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<WarmPool>());
        services.TryAddSingleton<ContainerHandover>();
        services.TryAddSingleton<ContainerReconciler>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ContainerReconciler>());

        // Rollouts of class versions; they need an IClassVersionStore (Berth.Hosting registers the node's), else they are idle.
        services.TryAddSingleton<RolloutCoordinator>();
        services.TryAddSingleton<IRolloutCoordinator>(sp => sp.GetRequiredService<RolloutCoordinator>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<RolloutCoordinator>());
        return services;
    }

    /// <summary>
    /// Registers a container class; <paramref name="configure"/> sets its image, instance type and limits. The settings
    /// are the named options <c>ContainerClassOptions</c> for the class name, so other sources (the app's config file) can add to them.
    /// </summary>
    public static IServiceCollection AddContainer<TContainer>(this IServiceCollection services, Action<ContainerClassOptions>? configure = null)
        where TContainer : Container
    {
        var className = typeof(TContainer).Name;
        services.AddSingleton(new ContainerClassRegistration(typeof(TContainer)));
        var options = services.AddOptions<ContainerClassOptions>(className).Configure(o => o.ClassName = className);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return services.AddDurableObject<IContainer, TContainer>(className);
    }

    private static ContainerClassRegistry BuildRegistry(IServiceProvider services)
    {
        var registry = new ContainerClassRegistry();
        var imageSource = services.GetService<IContainerImageProvider>();
        var classOptions = services.GetRequiredService<IOptionsMonitor<ContainerClassOptions>>();
        foreach (var registration in services.GetServices<ContainerClassRegistration>())
        {
            var options = classOptions.Get(registration.Type.Name);
            options.ClassName = registration.Type.Name;
            Func<CancellationToken, Task<string>>? resolve = imageSource is null ? null : ct => imageSource.GetImageAsync(options, ct);
            registry.Add(new ContainerClass(registration.Type, options, resolve));
        }

        return registry;
    }

    private sealed record ContainerClassRegistration(Type Type);
}
