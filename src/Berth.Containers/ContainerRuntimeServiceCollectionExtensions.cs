using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Berth.Containers;

/// <summary>Registers the narrow runtime interfaces as views of the one <see cref="IContainerRuntime"/>.</summary>
public static class ContainerRuntimeServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IContainerOperations"/>, <see cref="IContainerExecOperations"/>, <see cref="INetworkOperations"/> and
    /// <see cref="IImageOperations"/> as the registered <see cref="IContainerRuntime"/> instance, unless already registered.
    /// They resolve <see cref="IContainerRuntime"/> when first asked for, so whichever runtime the host registers last (the
    /// Docker driver, a fake, a timing wrapper) serves all of them.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddContainerRuntimeOperations(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IContainerOperations>(sp => sp.GetRequiredService<IContainerRuntime>());
        services.TryAddSingleton<IContainerExecOperations>(sp => sp.GetRequiredService<IContainerRuntime>());
        services.TryAddSingleton<INetworkOperations>(sp => sp.GetRequiredService<IContainerRuntime>());
        services.TryAddSingleton<IImageOperations>(sp => sp.GetRequiredService<IContainerRuntime>());
        return services;
    }
}
