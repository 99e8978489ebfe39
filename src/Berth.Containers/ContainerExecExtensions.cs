using System.Runtime.CompilerServices;

namespace Berth.Containers;

/// <summary>Runs commands in a container object's container through exec sessions, so no single call is cut by Orleans' response timeout.</summary>
public static class ContainerExecExtensions
{
    /// <summary>
    /// Runs <paramref name="command"/> in the object's running container and returns its exit code and output: at most
    /// <see cref="ContainerExecOptions.MaxOutputBytes"/> (1 MiB by default) per stream, the rest read and discarded with
    /// <see cref="ContainerExecResult.StdoutTruncated"/>/<see cref="ContainerExecResult.StderrTruncated"/> set. The command may run
    /// as long as <see cref="ContainerExecOptions.Timeout"/> (10 minutes by default), however short Orleans' response timeout is.
    /// </summary>
    /// <param name="container">The container object.</param>
    /// <param name="command">Command and arguments.</param>
    /// <param name="stdin">Sent to the command's standard input, which is then closed.</param>
    /// <param name="cancellationToken">Cancels the command (best effort: its output stream is closed) and the wait.</param>
    /// <exception cref="InvalidOperationException">No container runs.</exception>
    /// <exception cref="TimeoutException">The command ran longer than <see cref="ContainerExecOptions.Timeout"/>.</exception>
    public static async Task<ContainerExecResult> ExecAsync(
        this IContainer container, IReadOnlyList<string> command, byte[]? stdin = null, CancellationToken cancellationToken = default)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        await foreach (var chunk in container.StreamExecAsync(new ContainerExecRequest { Command = command, Stdin = stdin, Capped = true }, cancellationToken))
        {
            foreach (var frame in chunk.Frames)
            {
                (frame.Stream == ContainerExecStream.Stderr ? stderr : stdout).Write(frame.Data);
            }

            if (chunk.Completed)
            {
                return new ContainerExecResult(chunk.ExitCode ?? -1, stdout.ToArray(), stderr.ToArray(), chunk.StdoutTruncated, chunk.StderrTruncated);
            }
        }

        throw new InvalidOperationException("The exec session ended without an exit code.");
    }

    /// <summary>
    /// Starts <paramref name="request"/> and yields its output as it comes, chunk by chunk; the last chunk has
    /// <see cref="ContainerExecChunk.Completed"/> and the exit code. Stopping the enumeration early (or cancelling) cancels the command.
    /// Memory stays bounded however much the command writes: the caller's pace back-pressures the command.
    /// </summary>
    /// <exception cref="InvalidOperationException">No container runs, or too many execs run in it.</exception>
    /// <exception cref="TimeoutException">The command ran longer than <see cref="ContainerExecOptions.Timeout"/>.</exception>
    public static async IAsyncEnumerable<ContainerExecChunk> StreamExecAsync(
        this IContainer container, ContainerExecRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        var execId = await container.StartExecAsync(request, cancellationToken);
        var completed = false;
        try
        {
            while (!completed)
            {
                var chunk = await container.ReadExecAsync(execId, cancellationToken);
                completed = chunk.Completed;
                yield return chunk;
            }
        }
        finally
        {
            if (!completed)
            {
                await container.CancelExecAsync(execId, CancellationToken.None);
            }
        }
    }
}
