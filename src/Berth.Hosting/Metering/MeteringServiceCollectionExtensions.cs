using Berth.Containers;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>Registers metering (docs/metering.md).</summary>
public static class MeteringServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="MeteringOptions"/> (bound from <c>Berth:Metering</c>, validated at start), the usage store
    /// (<c>{DataDirectory}/usage.db</c>), the cgroup <see cref="IContainerResourceReader"/> (engine stats as its fallback) and the
    /// <see cref="UsageRecorder"/>, as an <see cref="IContainerStateObserver"/> and a hosted service. Call it before the silo is
    /// added, so the recorder's last flush runs after the silo stopped its containers.
    /// </summary>
    public static IServiceCollection AddBerthMetering(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<MeteringOptions>().BindConfiguration(MeteringOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MeteringOptions>, MeteringOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SqliteUsageStore>();
        services.TryAddSingleton<IContainerResourceReader>(sp => new CgroupResourceReader(sp.GetService<IContainerExecOperations>()));
        services.TryAddSingleton<UsageRecorder>();
        services.AddSingleton<IContainerStateObserver>(sp => sp.GetRequiredService<UsageRecorder>());
        services.AddHostedService(sp => sp.GetRequiredService<UsageRecorder>());
        return services;
    }
}
