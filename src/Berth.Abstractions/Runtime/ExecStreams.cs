namespace Berth.Runtime;

/// <summary>Streams wired to an exec'd process. Any may be <see langword="null"/> to ignore it.</summary>
/// <param name="Stdin">Read to its end and sent to the process's standard input, which is then closed.</param>
/// <param name="Stdout">Receives standard output.</param>
/// <param name="Stderr">Receives standard error.</param>
public sealed record ExecStreams(Stream? Stdin = null, Stream? Stdout = null, Stream? Stderr = null);
