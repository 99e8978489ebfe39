namespace Berth.Containers;

/// <summary>What a <see cref="ContainerWaitStrategy"/> waits on: a started container, the probe and the clock.</summary>
/// <param name="ContainerId">Engine ID of the container.</param>
/// <param name="Host">Its address on Berth's network.</param>
/// <param name="DefaultPort">The class's default port.</param>
/// <param name="Probe">The network checks.</param>
/// <param name="Time">The clock every wait runs on.</param>
/// <param name="PollInterval">Time between two checks.</param>
/// <param name="Deadline">The outer deadline (start + <see cref="ContainerOptions.PortReadyTimeout"/>); no strategy waits past it.</param>
/// <param name="Exited">Completes with the container's exit code when it exits; every strategy fails at once then.</param>
/// <param name="Describe">How messages name the container, for example <c>Container Web 42</c>.</param>
public sealed record ContainerWaitContext(
    string ContainerId,
    string Host,
    int DefaultPort,
    IContainerProbe Probe,
    TimeProvider Time,
    TimeSpan PollInterval,
    DateTimeOffset Deadline,
    Task<int> Exited,
    string Describe);

/// <summary>
/// One readiness condition of a container, in the manner of Testcontainers' wait strategies: it polls until its check
/// passes, fails with <see cref="ContainerReadyError.PortTimeout"/> at its own timeout or the outer deadline (whichever
/// comes first), and fails at once with <see cref="ContainerReadyError.ExitedDuringStart"/> when the container exits.
/// </summary>
public abstract class ContainerWaitStrategy
{
    /// <summary>This strategy's own limit, counted from when it starts; never past the context's deadline.</summary>
    /// <value>Defaults to <see langword="null"/>: the outer deadline (<see cref="ContainerOptions.PortReadyTimeout"/>) alone.</value>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Waits until the condition holds.</summary>
    /// <exception cref="ContainerStartException">The condition did not hold in time, or the container exited.</exception>
    public abstract Task WaitAsync(ContainerWaitContext context, CancellationToken cancellationToken);

    /// <summary>Polls <paramref name="check"/> until it passes, the container exits or the limit passes.</summary>
    protected async Task PollAsync(ContainerWaitContext context, Func<TimeSpan, CancellationToken, Task<bool>> check, TimeSpan attemptTimeout,
        string what, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(check);
        var start = context.Time.GetUtcNow();
        var deadline = Timeout is { } own && start + own < context.Deadline ? start + own : context.Deadline;
        while (true)
        {
            ThrowIfExited(context, what);
            var left = deadline - context.Time.GetUtcNow();
            if (left > TimeSpan.Zero && await check(left < attemptTimeout ? left : attemptTimeout, cancellationToken))
            {
                return;
            }

            ThrowIfExited(context, what);
            if (context.Time.GetUtcNow() >= deadline)
            {
                throw new ContainerStartException(ContainerReadyError.PortTimeout,
                    $"{context.Describe} did not {what} within {(deadline - start).TotalSeconds:0.#} s " +
                    $"({(deadline == context.Deadline ? "PortReadyTimeout" : "the wait strategy's timeout")}). Check that the app listens on 0.0.0.0 and on this port.");
            }

            await Task.WhenAny(Task.Delay(context.PollInterval, context.Time, cancellationToken), context.Exited);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private static void ThrowIfExited(ContainerWaitContext context, string what)
    {
        if (context.Exited.IsCompletedSuccessfully)
        {
            throw new ContainerStartException(ContainerReadyError.ExitedDuringStart,
                $"{context.Describe} exited with code {context.Exited.Result} before it would {what}.");
        }
    }
}

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
