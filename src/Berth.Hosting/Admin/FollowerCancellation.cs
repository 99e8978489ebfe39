using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Berth.Hosting;

/// <summary>
/// The cancellation of a response that streams until its client goes (a live-log follower): also cancelled when the host
/// begins to stop. Kestrel's graceful stop waits for every request in flight until HostOptions.ShutdownTimeout, and a
/// follower (berth tail, berth containers logs -f, the dashboard) never ends on its own, so one open follower held every
/// stop for the whole timeout (120 s under berth dev, which then killed the host before it stopped its containers).
/// </summary>
internal static class FollowerCancellation
{
    /// <summary>A source cancelled when <paramref name="requestAborted"/> is, or when the host begins to stop; dispose it with the response.</summary>
    public static CancellationTokenSource Create(IServiceProvider services, CancellationToken requestAborted) =>
        services.GetService<IHostApplicationLifetime>() is { } lifetime
            ? CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping)
            : CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
}
