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
    /// Registers <see cref="DockerContainerRuntime"/> as the singleton <see cref="IContainerRuntime"/>, with
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
        services.TryAddSingleton(sp => new DockerContainerRuntime(
            sp.GetRequiredService<IOptions<DockerRuntimeOptions>>().Value,
            sp.GetService<ILogger<DockerContainerRuntime>>(),
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IContainerRuntime>(sp => sp.GetRequiredService<DockerContainerRuntime>());
        return services;
    }
}
