using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Egress;

/// <summary>Registers the node's egress path.</summary>
public static class EgressServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="EgressNode"/> (proxies started on demand per filtered network, stopped and their firewall
    /// rules removed when the host stops), <see cref="EgressClients"/> and <see cref="IEgressFirewall"/> (iptables).
    /// An <see cref="EgressResolver"/> registered before replaces the node's DNS resolver (tests use a stub).
    /// Bind <see cref="EgressOptions"/> to <see cref="EgressOptions.SectionName"/> for settings.
    /// </summary>
    /// <param name="services">The services.</param>
    public static IServiceCollection AddBerthEgress(this IServiceCollection services)
    {
        services.AddOptions<EgressOptions>().Validate(o => o.Validate().Count == 0, "Berth:Egress is not valid; see EgressOptions.Validate.");
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<EgressClients>();
        services.TryAddSingleton<IEgressFirewall, IptablesEgressFirewall>();
        services.TryAddSingleton(sp => new EgressNode(
            sp.GetRequiredService<EgressClients>(),
            sp.GetRequiredService<IEgressFirewall>(),
            sp.GetRequiredService<IOptions<EgressOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetService<EgressResolver>()));
        return services;
    }
}
