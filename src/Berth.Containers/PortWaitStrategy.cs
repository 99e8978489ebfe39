namespace Berth.Containers;

/// <summary>Waits until a TCP port accepts connections.</summary>
/// <param name="port">The container port.</param>
/// <param name="attemptTimeout">Limit of one connection attempt (<see cref="ContainerOptions.ConnectProbeTimeout"/>).</param>
public sealed class PortWaitStrategy(int port, TimeSpan attemptTimeout) : ContainerWaitStrategy
{
    /// <summary>The port waited for.</summary>
    public int Port => port;

    /// <inheritdoc />
    public override Task WaitAsync(ContainerWaitContext context, CancellationToken cancellationToken) =>
        PollAsync(context, (limit, ct) => context.Probe.CanConnectAsync(context.Host, port, limit, ct), attemptTimeout,
            $"accept connections on port {port}", cancellationToken);
}
