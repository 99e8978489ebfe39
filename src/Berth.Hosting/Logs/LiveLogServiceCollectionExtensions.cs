using Berth.Containers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>Registers live logs: the platform's log buffer and its <see cref="ILoggerProvider"/>, container start events and the follower count.</summary>
internal static class LiveLogServiceCollectionExtensions
{
    /// <summary>Adds live logs' services once (options bound from <see cref="LiveLogOptions.SectionName"/>, validated at start).</summary>
    public static IServiceCollection AddBerthLiveLogs(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(PlatformLogBuffer)))
        {
            return services;
        }

        services.AddOptions<LiveLogOptions>().BindConfiguration(LiveLogOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LiveLogOptions>, LiveLogOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new PlatformLogBuffer(sp.GetRequiredService<IOptions<LiveLogOptions>>().Value));
        services.AddSingleton<LiveLogFollowers>();
        services.AddSingleton<ContainerStartEvents>();
        services.AddSingleton<IContainerStateObserver>(sp => sp.GetRequiredService<ContainerStartEvents>());
        services.AddSingleton<ILoggerProvider, PlatformLoggerProvider>();
        return services;
    }
}

/// <summary>Counts live followers against <see cref="LiveLogOptions.MaxFollowers"/>.</summary>
internal sealed class LiveLogFollowers(IOptions<LiveLogOptions> options)
{
    private int _count;

    /// <summary>Followers now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Takes a follower's place; <see langword="false"/> when all are taken. Call <see cref="Exit"/> when it ends.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _count) <= options.Value.MaxFollowers)
        {
            return true;
        }

        Interlocked.Decrement(ref _count);
        return false;
    }

    /// <summary>Gives a follower's place back.</summary>
    public void Exit() => Interlocked.Decrement(ref _count);
}
