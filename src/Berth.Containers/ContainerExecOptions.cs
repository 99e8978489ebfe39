using Microsoft.Extensions.Options;

namespace Berth.Containers;

/// <summary>
/// Limits of commands run in containers (<see cref="ContainerExecExtensions.ExecAsync"/> and the admin API's exec).
/// A tenant's command must not be able to exhaust the platform: output is held in a bounded buffer, the typed API keeps
/// at most <see cref="MaxOutputBytes"/> per stream, and an exec nobody reads is ended.
/// Set with <c>services.Configure&lt;ContainerExecOptions&gt;(...)</c>; validated when the host starts.
/// </summary>
public sealed class ContainerExecOptions
{
    /// <summary>Most bytes of standard output, and separately of standard error, that <see cref="ContainerExecExtensions.ExecAsync"/> returns.
    /// Output past it is read from the engine and discarded, and the result's <c>StdoutTruncated</c>/<c>StderrTruncated</c> is set.
    /// Streamed execs (the admin API) have no such cap.</summary>
    /// <value>Defaults to 1 MiB (1,048,576 bytes); allowed 1 byte to 64 MiB.</value>
    public int MaxOutputBytes { get; set; } = 1024 * 1024;

    /// <summary>Most output bytes one exec keeps in memory while its caller has not pulled them; when full, the command's
    /// output is back-pressured (it blocks writing) until the caller reads.</summary>
    /// <value>Defaults to 1 MiB; allowed 64 KiB to 64 MiB.</value>
    public int BufferBytes { get; set; } = 1024 * 1024;

    /// <summary>Longest time one exec may run; past it the exec is cancelled and its caller gets <see cref="TimeoutException"/>.</summary>
    /// <value>Defaults to 10 minutes; must be positive.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Longest time one pull of output waits for new output before it answers with what it has (possibly nothing).
    /// Kept well below Orleans' response timeout (30 s by default), so no single call can be cut by it.</summary>
    /// <value>Defaults to 5 seconds; allowed 1 millisecond to 20 seconds.</value>
    public TimeSpan PollWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Time after the caller's last pull after which an exec is treated as abandoned: it is cancelled and its output dropped.</summary>
    /// <value>Defaults to 30 seconds; must be longer than <see cref="PollWait"/>.</value>
    public TimeSpan AbandonAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most execs running at once in one container.</summary>
    /// <value>Defaults to 16; allowed 1 to 1024.</value>
    public int MaxConcurrentExecs { get; set; } = 16;

    /// <summary>Largest output chunk one pull returns.</summary>
    internal const int MaxChunkBytes = 256 * 1024;

    /// <summary>Largest piece of output kept as one buffered frame.</summary>
    internal const int FrameBytes = 64 * 1024;
}

internal sealed class ContainerExecOptionsValidator : IValidateOptions<ContainerExecOptions>
{
    private const int MiB = 1024 * 1024;

    public ValidateOptionsResult Validate(string? name, ContainerExecOptions options)
    {
        var failures = new List<string>();
        if (options.MaxOutputBytes is < 1 or > 64 * MiB)
        {
            failures.Add($"ContainerExecOptions.MaxOutputBytes: {options.MaxOutputBytes} is not allowed; allowed: 1 to {64 * MiB} bytes.");
        }

        if (options.BufferBytes is < ContainerExecOptions.FrameBytes or > 64 * MiB)
        {
            failures.Add($"ContainerExecOptions.BufferBytes: {options.BufferBytes} is not allowed; allowed: {ContainerExecOptions.FrameBytes} to {64 * MiB} bytes.");
        }

        if (options.Timeout <= TimeSpan.Zero)
        {
            failures.Add($"ContainerExecOptions.Timeout: '{options.Timeout}' is not allowed; use a positive time span.");
        }

        if (options.PollWait <= TimeSpan.Zero || options.PollWait > TimeSpan.FromSeconds(20))
        {
            failures.Add($"ContainerExecOptions.PollWait: '{options.PollWait}' is not allowed; allowed: more than zero, at most 20 seconds.");
        }

        if (options.AbandonAfter <= options.PollWait)
        {
            failures.Add($"ContainerExecOptions.AbandonAfter: '{options.AbandonAfter}' is not allowed; it must be longer than PollWait ('{options.PollWait}').");
        }

        if (options.MaxConcurrentExecs is < 1 or > 1024)
        {
            failures.Add($"ContainerExecOptions.MaxConcurrentExecs: {options.MaxConcurrentExecs} is not allowed; allowed: 1 to 1024.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
