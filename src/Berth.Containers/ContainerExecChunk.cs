using Orleans.Concurrency;

namespace Berth.Containers;

/// <summary>
/// What one <see cref="IContainer.ReadExecAsync"/> returned: the output that arrived since the last pull (possibly none,
/// when the command wrote nothing within <see cref="ContainerExecOptions.PollWait"/>) and, once the command ended, its exit code.
/// </summary>
/// <param name="Frames">Output in the order it was written; at most 256 KiB in all.</param>
/// <param name="Completed">The command ended and all its output was returned; the session is gone.</param>
/// <param name="ExitCode">The command's exit code, when <paramref name="Completed"/>.</param>
/// <param name="StdoutTruncated">Standard output went past the session's cap and the rest was discarded (capped sessions only).</param>
/// <param name="StderrTruncated">Standard error went past the session's cap and the rest was discarded (capped sessions only).</param>
[GenerateSerializer, Immutable]
public sealed record ContainerExecChunk(
    [property: Id(0)] IReadOnlyList<ContainerExecFrame> Frames,
    [property: Id(1)] bool Completed,
    [property: Id(2)] int? ExitCode,
    [property: Id(3)] bool StdoutTruncated,
    [property: Id(4)] bool StderrTruncated);
