using System.Text;
using Orleans.Concurrency;

namespace Berth.Containers;

/// <summary>
/// Output and exit code of a command run with <see cref="ContainerExecExtensions.ExecAsync"/>. The output is the bytes
/// the command wrote, at most <see cref="ContainerExecOptions.MaxOutputBytes"/> per stream.
/// </summary>
/// <param name="ExitCode">The command's own exit code.</param>
/// <param name="StdoutBytes">Standard output as written, up to the cap.</param>
/// <param name="StderrBytes">Standard error as written, up to the cap.</param>
/// <param name="StdoutTruncated">Standard output went past the cap; the rest was read and discarded.</param>
/// <param name="StderrTruncated">Standard error went past the cap; the rest was read and discarded.</param>
[GenerateSerializer, Immutable]
public sealed record ContainerExecResult(
    [property: Id(0)] int ExitCode,
    [property: Id(1)] byte[] StdoutBytes,
    [property: Id(2)] byte[] StderrBytes,
    [property: Id(3)] bool StdoutTruncated,
    [property: Id(4)] bool StderrTruncated)
{
    /// <summary>Standard output decoded as UTF-8 (invalid sequences become U+FFFD); use <see cref="StdoutBytes"/> for the exact bytes.</summary>
    public string Stdout => Encoding.UTF8.GetString(StdoutBytes);

    /// <summary>Standard error decoded as UTF-8 (invalid sequences become U+FFFD); use <see cref="StderrBytes"/> for the exact bytes.</summary>
    public string Stderr => Encoding.UTF8.GetString(StderrBytes);
}
