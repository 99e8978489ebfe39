namespace Berth.Containers;

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
