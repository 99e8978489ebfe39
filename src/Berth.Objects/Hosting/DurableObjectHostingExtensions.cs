using Berth.Objects;
using Berth.Objects.Alarms;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Metadata;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers durable objects with a silo and binds namespaces for callers.</summary>
public static class DurableObjectHostingExtensions
{
    /// <summary>
    /// Adds durable object support to the silo: options (validated at start-up), the alarm scheduler with its
    /// index in <c>{DataDirectory}/alarms.db</c> (unless a cluster registered a shared index first or after),
    /// and idle deactivation after <see cref="DurableObjectOptions.IdleTimeout"/>.
    /// </summary>
    /// <remarks>The idle timeout becomes the silo's <see cref="GrainCollectionOptions.CollectionAge"/>, so it applies to every grain of the silo.</remarks>
    public static ISiloBuilder AddDurableObjects(this ISiloBuilder builder, Action<DurableObjectOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<DurableObjectOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(DurableObjectRuntime)))
        {
            return builder;
        }

        options.ValidateOnStart();
        services.AddSingleton<IValidateOptions<DurableObjectOptions>, DurableObjectOptionsValidator>();
        services.AddOptions<GrainCollectionOptions>().Configure<IOptions<DurableObjectOptions>>((collection, objects) =>
        {
            var idle = objects.Value.IdleTimeout;
            collection.CollectionAge = idle;
            collection.CollectionQuantum = TimeSpan.FromTicks(Math.Min(idle.Ticks / 2, GrainCollectionOptions.DEFAULT_COLLECTION_QUANTUM.Ticks));
        });

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IAlarmDispatcher, GrainAlarmDispatcher>();
        services.TryAddSingleton<IAlarmIndex>(sp =>
            new AlarmIndex(Path.Combine(Path.GetFullPath(sp.GetRequiredService<IOptions<DurableObjectOptions>>().Value.DataDirectory), "alarms.db")));
        services.AddSingleton(sp => new AlarmScheduler(
            sp.GetRequiredService<IAlarmIndex>(),
            sp.GetRequiredService<IAlarmDispatcher>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<AlarmScheduler>>()));
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<AlarmScheduler>());
        services.AddSingleton<DurableObjectRuntime>();
        return builder;
    }

    /// <summary>
    /// Binds the namespace <paramref name="bindingName"/> to the class <typeparamref name="TImplementation"/>:
    /// registers <see cref="DurableObjectNamespace{TObject}"/> of <typeparamref name="TInterface"/> as a singleton
    /// (the last binding of an interface wins) and as a keyed singleton under <paramref name="bindingName"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="bindingName"/> is already bound.</exception>
    public static IServiceCollection AddDurableObject<TInterface, TImplementation>(this IServiceCollection services, string bindingName)
        where TInterface : IDurableObject
        where TImplementation : DurableObject, TInterface
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(bindingName);
        if (services.Any(d => d.ServiceType == typeof(DurableObjectClassRegistration) && d.ImplementationInstance is DurableObjectClassRegistration b && b.Name == bindingName))
        {
            throw new InvalidOperationException($"The durable object binding '{bindingName}' is already registered.");
        }

        services.AddSingleton(new DurableObjectClassRegistration(bindingName, typeof(TImplementation)));
        services.AddKeyedSingleton(bindingName, (sp, _) => new DurableObjectNamespace<TInterface>(
            bindingName,
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<GrainTypeResolver>().GetGrainType(typeof(TImplementation))));
        services.AddSingleton(sp => sp.GetRequiredKeyedService<DurableObjectNamespace<TInterface>>(bindingName));
        return services;
    }
}
