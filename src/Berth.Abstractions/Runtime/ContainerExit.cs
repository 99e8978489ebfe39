namespace Berth.Runtime;

/// <summary>How a container's main process ended.</summary>
/// <param name="ExitCode">Exit code (137 after SIGKILL).</param>
/// <param name="OomKilled">The kernel's OOM killer ended it.</param>
/// <param name="Error">Engine error, if any.</param>
public sealed record ContainerExit(int ExitCode, bool OomKilled, string? Error = null);
