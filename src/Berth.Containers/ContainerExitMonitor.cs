using Berth.Runtime;
using Microsoft.Extensions.Logging;

namespace Berth.Containers;

/// <summary>
/// Waits, off the object's scheduler, for one container to exit; retries with a doubling backoff on the object's clock
/// when the engine fails to report; completes <see cref="Exited"/> and then calls back. Disposing it cancels the watch.
/// </summary>
internal sealed class ContainerExitMonitor : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly TaskCompletionSource<ContainerExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ContainerExitMonitor()
    {
    }

    /// <summary>Completes with the exit once the engine reported it (exit code -1 when the container vanished).</summary>
    public Task<ContainerExit> Exited => _exited.Task;

    /// <summary>Starts watching <paramref name="containerId"/>.</summary>
    /// <param name="runtime">The engine.</param>
    /// <param name="containerId">The container.</param>
    /// <param name="time">The clock the retry backoff runs on.</param>
    /// <param name="initialDelay">First retry delay (<see cref="ContainerOptions.MonitorRetryInitialDelay"/>).</param>
    /// <param name="maxDelay">Longest retry delay (<see cref="ContainerOptions.MonitorRetryMaxDelay"/>).</param>
    /// <param name="logger">Where failed watches are logged.</param>
    /// <param name="onExited">Called once with the exit, after <see cref="Exited"/> completed.</param>
    public static ContainerExitMonitor Start(IContainerOperations runtime, string containerId, TimeProvider time, TimeSpan initialDelay, TimeSpan maxDelay,
        ILogger logger, Func<ContainerExit, Task> onExited)
    {
        var monitor = new ContainerExitMonitor();
        var token = monitor._cancellation.Token;
        _ = Task.Run(() => monitor.RunAsync(runtime, containerId, time, initialDelay, maxDelay, logger, onExited, token), CancellationToken.None);
        return monitor;
    }

    private async Task RunAsync(IContainerOperations runtime, string id, TimeProvider time, TimeSpan initialDelay, TimeSpan maxDelay,
        ILogger logger, Func<ContainerExit, Task> onExited, CancellationToken token)
    {
        var backoff = initialDelay;
        while (!token.IsCancellationRequested)
        {
            ContainerExit exit;
            try
            {
                exit = await runtime.WaitForExitAsync(id, token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (ContainerRuntimeException ex) when (ex.Error == ContainerRuntimeError.ContainerNotFound)
            {
                exit = new ContainerExit(-1, false, ex.Message);
            }
            catch (Exception ex)
            {
                Log.MonitorFailed(logger, id[..Math.Min(12, id.Length)], ex.Message);
                try
                {
                    await Task.Delay(backoff, time, token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = backoff * 2 < maxDelay ? backoff * 2 : maxDelay;
                continue;
            }

            _exited.TrySetResult(exit);
            try
            {
                await onExited(exit);
            }
            catch (Exception ex)
            {
                Log.MonitorFailed(logger, id[..Math.Min(12, id.Length)], ex.Message);
            }

            return;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _cancellation.Cancel();
        _cancellation.Dispose();
    }
}
