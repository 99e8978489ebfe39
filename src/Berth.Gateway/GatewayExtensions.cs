using Berth.Containers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
        services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>()
            .Configure<IOptions<GatewayOptions>>(static (transport, gateway) => transport.UnsafePreferInlineScheduling |= gateway.Value.InlineScheduling);
        services.AddHttpForwarder();
        services.TryAddSingleton<ContainerForwarder>();
        services.TryAdd(ServiceDescriptor.Singleton(typeof(ContainerNamespace<>), typeof(ContainerNamespace<>)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, GatewayErrorStartupFilter>());
        services.TryAddSingleton<Pools.ContainerPoolRegistry>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, Pools.ContainerPoolRegistry>(sp => sp.GetRequiredService<Pools.ContainerPoolRegistry>()));
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
        var logger = endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger<ContainerForwarder>();
        return endpoints.Map(pattern, context =>
        {
            string name;
            try
            {
                name = nameSelector(context);
            }
            catch (Exception ex)
            {
                // The app's selector failed: answer the documented JSON, not an empty 500 or a stack trace.
                Log.SelectorFailed(logger, pattern, ex);
                return GatewayErrorWriter.WriteUnexpectedAsync(context);
            }

            if (catchAll is not null)
            {
                StripPrefix(context.Request, catchAll);
            }

            return containers.GetByName(name).FetchAsync(context);
        });
    }

    /// <summary>
    /// Forwards every request matching <paramref name="pattern"/> to the pool of <typeparamref name="TContainer"/>
    /// (<see cref="ContainerNamespace{TContainer}.GetPool"/>): the least-loaded running instance, scaled by the class's
    /// pool settings (docs/scaling.md).
    /// </summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">A route pattern; with <paramref name="stripPrefix"/> it must end in a catch-all parameter (<c>{**path}</c>).</param>
    /// <param name="stripPrefix">As for <see cref="MapContainer{TContainer}(IEndpointRouteBuilder, string, Func{HttpContext, string}, bool)"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="stripPrefix"/> is set and the pattern has no catch-all parameter.</exception>
    public static IEndpointConventionBuilder MapPool<TContainer>(this IEndpointRouteBuilder endpoints, string pattern, bool stripPrefix = false)
        where TContainer : Container
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var catchAll = stripPrefix
            ? RoutePatternFactory.Parse(pattern).Parameters.FirstOrDefault(p => p.IsCatchAll)?.Name
                ?? throw new ArgumentException($"Route pattern '{pattern}' needs a catch-all parameter such as {{**path}} to strip its prefix.", nameof(pattern))
            : null;
        var containers = endpoints.ServiceProvider.GetRequiredService<ContainerNamespace<TContainer>>();
        return endpoints.Map(pattern, context =>
        {
            if (catchAll is not null)
            {
                StripPrefix(context.Request, catchAll);
            }

            return containers.GetPool().FetchAsync(context);
        });
    }

    /// <summary>
    /// Sets the largest request body, in bytes, this route forwards (<see langword="null"/>: no limit), instead of
    /// <see cref="GatewayOptions.MaxRequestBodySize"/>. A larger body is answered <c>413 body_too_large</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is zero or negative.</exception>
    public static TBuilder WithMaxRequestBodySize<TBuilder>(this TBuilder builder, long? bytes)
        where TBuilder : IEndpointConventionBuilder
    {
        if (bytes is { } value)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, nameof(bytes));
        }

        builder.Add(endpoint => endpoint.Metadata.Add(new BodySizeLimit(bytes)));
        return builder;
    }

    /// <summary>
    /// Moves the part of the path before the catch-all parameter to <c>PathBase</c>. The kept part is cut from the
    /// request's own path, never rebuilt from the decoded route value, so escapes such as <c>%2F</c> stay as sent.
    /// </summary>
    internal static void StripPrefix(HttpRequest request, string catchAll)
    {
        var rest = request.RouteValues[catchAll] as string ?? "";
        var full = request.Path.Value ?? "";
        int keep;
        if (rest.Length == 0)
        {
            keep = full.EndsWith('/') ? full.Length - 1 : full.Length;
        }
        else if (full.Length > rest.Length && full.EndsWith(rest, StringComparison.Ordinal) && full[full.Length - rest.Length - 1] == '/')
        {
            keep = full.Length - rest.Length - 1;
        }
        else
        {
            // Routing gave a value that is not the path's tail (never seen): keep the whole path rather than guess.
            return;
        }

        request.PathBase = request.PathBase.Add(new PathString(full[..keep]));
        request.Path = keep < full.Length ? new PathString(full[keep..]) : new PathString("/");
    }

    private sealed class BodySizeLimit(long? bytes) : IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize { get; } = bytes;
    }
}
