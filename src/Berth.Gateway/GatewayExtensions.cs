using Berth.Containers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Berth.Gateway;

/// <summary>Registers and maps the gateway's data plane.</summary>
public static class GatewayExtensions
{
    /// <summary>Adds the forwarder and the typed <see cref="ContainerNamespace{TContainer}"/> bindings.</summary>
    public static IServiceCollection AddBerthGateway(this IServiceCollection services, Action<GatewayOptions>? configure = null)
    {
        var options = services.AddOptions<GatewayOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>());
        services.AddHttpForwarder();
        services.TryAddSingleton<ContainerForwarder>();
        services.TryAdd(ServiceDescriptor.Singleton(typeof(ContainerNamespace<>), typeof(ContainerNamespace<>)));
        return services;
    }

    /// <summary>
    /// Forwards every request matching <paramref name="pattern"/> to the container of <typeparamref name="TContainer"/>
    /// named by <paramref name="nameSelector"/> (for example a session ID from a header), starting it when needed.
    /// </summary>
    public static IEndpointConventionBuilder MapContainer<TContainer>(this IEndpointRouteBuilder endpoints, string pattern, Func<HttpContext, string> nameSelector)
        where TContainer : Container
    {
        ArgumentNullException.ThrowIfNull(nameSelector);
        var containers = endpoints.ServiceProvider.GetRequiredService<ContainerNamespace<TContainer>>();
        return endpoints.Map(pattern, context => containers.GetByName(nameSelector(context)).FetchAsync(context));
    }
}
