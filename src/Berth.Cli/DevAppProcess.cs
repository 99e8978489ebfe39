using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Berth.Cli;

/// <summary>
/// The app's <c>dotnet run</c> process under <c>berth dev</c>: its output goes line by line to this terminal and the
/// last <see cref="KeptLines"/> lines are kept, so a start that fails can say what the app printed last.
/// </summary>
internal sealed class DevAppProcess : IDisposable
{
    /// <summary>How many of the app's last output lines are kept for error messages.</summary>
    public const int KeptLines = 15;

    private readonly Process _process;
    private readonly Queue<string> _lastLines = new();
    private readonly Task _pumps;

    private DevAppProcess(Process process, TextWriter output, TextWriter error)
    {
        _process = process;
        _pumps = Task.WhenAll(PumpAsync(process.StandardOutput, output), PumpAsync(process.StandardError, error));
    }

    /// <summary>Whether the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the process with its standard output and error redirected to <paramref name="output"/> and <paramref name="error"/>.</summary>
    /// <exception cref="CliException">The process could not be started.</exception>
    public static DevAppProcess Start(ProcessStartInfo start, TextWriter output, TextWriter error)
    {
        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = Process.Start(start) ?? throw new CliException(ExitCodes.InternalError, $"Could not start '{start.FileName}'.");
        return new DevAppProcess(process, output, error);
    }

    /// <summary>The app's last output lines (standard output and error, in arrival order), oldest first.</summary>
    public IReadOnlyList<string> LastLines
    {
        get
        {
            lock (_lastLines)
            {
                return [.. _lastLines];
            }
        }
    }

    /// <summary>Waits for the process to exit and its output to be written.</summary>
    public async Task WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        await _pumps.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// SIGTERM to <c>dotnet run</c>, which passes it on to the app; the whole process tree is killed when it has not
    /// exited after <paramref name="grace"/> (on <paramref name="timeProvider"/>'s clock).
    /// </summary>
    /// <returns><see langword="true"/> when it exited by itself, <see langword="false"/> when it had to be killed.</returns>
    public async Task<bool> StopAsync(TimeSpan grace, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (_process.HasExited)
        {
            return true;
        }

        if (OperatingSystem.IsWindows())
        {
            _process.Kill(entireProcessTree: true);
            await WaitForExitAsync(cancellationToken);
            return false;
        }

        _ = NativeMethods.Kill(_process.Id, NativeMethods.SigTerm);
        using var timeout = new CancellationTokenSource(grace, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            await _process.WaitForExitAsync(linked.Token);
            await _pumps.WaitAsync(cancellationToken);
            return true;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(cancellationToken);
            return false;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private async Task PumpAsync(StreamReader reader, TextWriter writer)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_lastLines)
            {
                _lastLines.Enqueue(line);
                if (_lastLines.Count > KeptLines)
                {
                    _lastLines.Dequeue();
                }
            }

            await writer.WriteLineAsync(line);
        }
    }

    private static class NativeMethods
    {
        public const int SigTerm = 15;

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Kill(int pid, int signal);
    }
}
