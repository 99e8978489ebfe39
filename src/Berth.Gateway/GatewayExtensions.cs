using Berth.Containers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
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
    /// named by the route value <paramref name="nameParameter"/> (for example <c>session</c> in
    /// <c>/sandbox/{session}/{**path}</c>), starting it when needed.
    /// </summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">A route pattern holding <paramref name="nameParameter"/>.</param>
    /// <param name="nameParameter">The route parameter whose value names the container (object).</param>
    /// <param name="stripPrefix">See <see cref="MapContainer{TContainer}(IEndpointRouteBuilder, string, Func{HttpContext, string}, bool)"/>.</param>
    public static IEndpointConventionBuilder MapContainer<TContainer>(this IEndpointRouteBuilder endpoints, string pattern, string nameParameter, bool stripPrefix = false)
        where TContainer : Container
    {
        if (RoutePatternFactory.Parse(pattern).GetParameter(nameParameter) is null)
        {
            throw new ArgumentException($"Route pattern '{pattern}' has no parameter '{nameParameter}' to name the container by.", nameof(nameParameter));
        }

        return endpoints.MapContainer<TContainer>(pattern, context => (string)context.Request.RouteValues[nameParameter]!, stripPrefix);
    }

    /// <summary>
    /// Forwards every request matching <paramref name="pattern"/> to the container of <typeparamref name="TContainer"/>
    /// named by <paramref name="nameSelector"/> (for example a session ID from the route or a header), starting it when needed.
    /// </summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">A route pattern; with <paramref name="stripPrefix"/> it must end in a catch-all parameter (<c>{**path}</c>).</param>
    /// <param name="nameSelector">Picks the container (object) name for a request.</param>
    /// <param name="stripPrefix">
    /// When <see langword="false"/> (the default, as on the seed platform) the container sees the request's full path;
    /// when <see langword="true"/> it sees only the catch-all part, and the matched prefix moves to <c>PathBase</c>.
    /// </param>
    public static IEndpointConventionBuilder MapContainer<TContainer>(this IEndpointRouteBuilder endpoints, string pattern, Func<HttpContext, string> nameSelector, bool stripPrefix = false)
        where TContainer : Container
    {
        ArgumentNullException.ThrowIfNull(nameSelector);
        var catchAll = stripPrefix
            ? RoutePatternFactory.Parse(pattern).Parameters.FirstOrDefault(p => p.IsCatchAll)?.Name
                ?? throw new ArgumentException($"Route pattern '{pattern}' needs a catch-all parameter such as {{**path}} to strip its prefix.", nameof(pattern))
            : null;
        var containers = endpoints.ServiceProvider.GetRequiredService<ContainerNamespace<TContainer>>();
        if (catchAll is null)
        {
            return endpoints.Map(pattern, context => containers.GetByName(nameSelector(context)).FetchAsync(context));
        }

        return endpoints.Map(pattern, context =>
        {
            var name = nameSelector(context);
            var request = context.Request;
            var rest = request.RouteValues[catchAll] as string ?? "";
            var kept = new PathString("/" + rest);
            var full = request.Path.Value ?? "";
            request.PathBase = request.PathBase.Add(new PathString(full[..Math.Max(0, full.Length - kept.Value!.Length)]));
            request.Path = kept;
            return containers.GetByName(name).FetchAsync(context);
        });
    }
}
