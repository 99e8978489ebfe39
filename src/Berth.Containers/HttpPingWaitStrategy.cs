namespace Berth.Containers;

/// <summary>Waits until an HTTP path on the default port answers with a status below 500.</summary>
/// <param name="path">The ping path.</param>
/// <param name="attemptTimeout">Limit of one request (<see cref="ContainerOptions.PingTimeout"/>).</param>
public sealed class HttpPingWaitStrategy(string path, TimeSpan attemptTimeout) : ContainerWaitStrategy
{
    /// <inheritdoc />
    public override Task WaitAsync(ContainerWaitContext context, CancellationToken cancellationToken) =>
        PollAsync(context, (limit, ct) => context.Probe.PingAsync(context.Host, context.DefaultPort, path, limit, ct), attemptTimeout,
            $"answer its ping endpoint '{path}'", cancellationToken);
}
