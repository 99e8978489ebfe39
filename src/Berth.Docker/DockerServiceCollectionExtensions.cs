using Berth.Docker;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Docker Engine driver.</summary>
public static class DockerServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="DockerContainerRuntime"/> as the singleton <see cref="IContainerRuntime"/> (and, through it,
    /// <see cref="IContainerOperations"/>, <see cref="IContainerExecOperations"/>, <see cref="INetworkOperations"/> and
    /// <see cref="IImageOperations"/>; <see cref="IImageDistribution"/> and <see cref="IContainerEngineIdentity"/> are the driver itself), with
    /// <see cref="DockerRuntimeOptions"/> validated when the host starts.
    /// </summary>
    public static IServiceCollection AddDockerContainerRuntime(this IServiceCollection services, Action<DockerRuntimeOptions>? configure = null)
    {
        var options = services.AddOptions<DockerRuntimeOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DockerRuntimeOptions>, DockerRuntimeOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new HostFirewall(sp.GetService<ILogger<HostFirewall>>()));
        services.TryAddSingleton(sp => new DockerContainerRuntime(
            sp.GetRequiredService<IOptions<DockerRuntimeOptions>>().Value,
            sp.GetService<ILogger<DockerContainerRuntime>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<HostFirewall>()));
        services.TryAddSingleton<IContainerRuntime>(sp => sp.GetRequiredService<DockerContainerRuntime>());

        // The narrow interfaces are views of whichever IContainerRuntime is registered (so a wrapper registered first serves them too).
        services.TryAddSingleton<IContainerOperations>(sp => sp.GetRequiredService<IContainerRuntime>());
        services.TryAddSingleton<IContainerExecOperations>(sp => sp.GetRequiredService<IContainerRuntime>());
        services.TryAddSingleton<INetworkOperations>(sp => sp.GetRequiredService<IContainerRuntime>());
        services.TryAddSingleton<IImageOperations>(sp => sp.GetRequiredService<IContainerRuntime>());
        services.TryAddSingleton<IImageDistribution>(sp => sp.GetRequiredService<DockerContainerRuntime>());
        services.TryAddSingleton<IContainerEngineIdentity>(sp => sp.GetRequiredService<DockerContainerRuntime>());
        return services;
    }
}
