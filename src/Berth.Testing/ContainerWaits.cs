using Berth.Runtime;

namespace Berth.Testing;

/// <summary>Explicit waits for tests: poll for a condition with a generous timeout instead of sleeping.</summary>
public static class ContainerWaits
{
    // No connection reuse: a later container can have the address of a removed one (see Berth.Docker.Tests' EngineTest.Http).
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>Follows the container's output until a line contains <paramref name="text"/>; returns that line.</summary>
    /// <exception cref="TimeoutException">No such line within <paramref name="timeout"/>.</exception>
    /// <exception cref="InvalidOperationException">The container exited without writing it.</exception>
    public static async Task<LogLine> WaitForLogAsync(IContainerRuntime runtime, string containerId, string text, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var seen = new List<string>();
        try
        {
            await foreach (var line in runtime.GetLogsAsync(containerId, new LogOptions(Follow: true), deadline.Token))
            {
                if (line.Text.Contains(text, StringComparison.Ordinal))
                {
                    return line;
                }

                seen.Add(line.Text);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Container {containerId} did not log '{text}' within {timeout}. Output so far:\n{string.Join('\n', seen)}");
        }

        throw new InvalidOperationException($"Container {containerId} exited without logging '{text}'. Output:\n{string.Join('\n', seen)}");
    }

    /// <summary>Polls <paramref name="uri"/> until it answers with any HTTP status; returns that response.</summary>
    /// <exception cref="TimeoutException">It did not answer within <paramref name="timeout"/>.</exception>
    public static async Task<HttpResponseMessage> WaitForHttpAsync(Uri uri, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        Exception? last = null;
        while (true)
        {
            try
            {
                return await Http.GetAsync(uri, deadline.Token);
            }
            catch (HttpRequestException e)
            {
                last = e;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{uri} did not answer within {timeout}: {last?.Message}", last);
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{uri} did not answer within {timeout}: {last?.Message}", last);
            }
        }
    }

    /// <summary>The host URI of a published container port, from inspect.</summary>
    public static async Task<Uri> GetPublishedUriAsync(IContainerRuntime runtime, string containerId, int containerPort, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        var status = await runtime.InspectAsync(containerId, cancellationToken)
            ?? throw new InvalidOperationException($"Container {containerId} does not exist.");
        return status.Ports.TryGetValue(containerPort, out var binding)
            ? new Uri($"http://{binding.HostAddress}:{binding.HostPort}/")
            : throw new InvalidOperationException($"Container {containerId} does not publish port {containerPort}; is it running?");
    }
}
