using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Berth.Gateway;

/// <summary>
/// The cancellation of a request that can wait on something that does not end by itself: also cancelled when the host
/// begins to stop (<see cref="IHostApplicationLifetime.ApplicationStopping"/>: SIGTERM, Ctrl+C, a <c>berth dev</c> watch
/// restart). Kestrel's graceful stop waits for every request in flight until <c>HostOptions.ShutdownTimeout</c>, so one
/// such request held every stop for the whole timeout (120 s under <c>berth dev</c>, which then killed the host before it
/// stopped its containers): a live-log follower (<c>berth tail</c>, <c>berth containers logs -f</c>, the dashboard), an
/// exec, or a request waiting for its container to start and open its port (up to <c>PortReadyTimeout</c>) or for a
/// pool instance. A request already forwarded to a running container is not linked: the graceful stop lets it finish.
/// </summary>
internal static class HostStopping
{
    /// <summary>A source cancelled when <paramref name="requestAborted"/> is, or when the host begins to stop; dispose it with the wait.</summary>
    /// <param name="services">The request's services (<see cref="IHostApplicationLifetime"/> is looked up there); without one, only the request's end cancels.</param>
    /// <param name="requestAborted">The request's own cancellation.</param>
    public static CancellationTokenSource Link(IServiceProvider? services, CancellationToken requestAborted) =>
        services?.GetService<IHostApplicationLifetime>() is { } lifetime
            ? CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping)
            : CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
}
