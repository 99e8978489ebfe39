using System.Diagnostics;
using System.Text;

namespace Berth.Templates.Tests.Support;

/// <summary>Runs command-line programs (dotnet, the packed berth tool) as a user would, with bounded waits.</summary>
internal static class Cli
{
    /// <summary>Variables the test host's own build tooling sets, which would steer a child `dotnet` to the wrong MSBuild.</summary>
    private static readonly string[] InheritedBuildVariables =
        ["MSBuildExtensionsPath", "MSBUILD_EXE_PATH", "MSBuildSDKsPath", "MSBuildLoadMicrosoftTargetsReadOnly", "DOTNET_HOST_PATH"];

    /// <summary>A start description for <paramref name="fileName"/> in <paramref name="workingDirectory"/>, output redirected.</summary>
    public static ProcessStartInfo Start(string fileName, string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in InheritedBuildVariables)
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        return start;
    }

    /// <summary>
    /// Runs a program to its end within <paramref name="timeout"/> and returns its output (stdout and stderr, interleaved).
    /// </summary>
    /// <exception cref="InvalidOperationException">It exited with a non-zero code or did not end in time; the message holds its output.</exception>
    public static async Task<string> RunAsync(ProcessStartInfo start, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var process = new RunningProcess(start);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(timeout);
        try
        {
            await process.Process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill();
            throw new InvalidOperationException($"'{Describe(start)}' did not finish within {timeout.TotalSeconds:0} s:\n{process.Output}");
        }

        // The exit event can come before the last asynchronous output lines.
        await process.Process.WaitForExitAsync(cancellationToken);
        return process.Process.ExitCode == 0
            ? process.Output
            : throw new InvalidOperationException($"'{Describe(start)}' exited with code {process.Process.ExitCode}:\n{process.Output}");
    }

    /// <summary>The command line, for messages.</summary>
    public static string Describe(ProcessStartInfo start) => $"{start.FileName} {string.Join(' ', start.ArgumentList)}";
}

/// <summary>A started process whose output is collected as it comes.</summary>
internal sealed class RunningProcess : IDisposable
{
    private readonly StringBuilder _output = new();

    /// <summary>Starts <paramref name="start"/> (whose output must be redirected).</summary>
    public RunningProcess(ProcessStartInfo start)
    {
        Process = new Process { StartInfo = start };
        Process.OutputDataReceived += (_, e) => Append(e.Data);
        Process.ErrorDataReceived += (_, e) => Append(e.Data);
        if (!Process.Start())
        {
            throw new InvalidOperationException($"Could not start '{Cli.Describe(start)}'.");
        }

        Process.StandardInput.Close();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    /// <summary>The process.</summary>
    public Process Process { get; }

    /// <summary>Everything it wrote so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Kills the process and its children, if still running.</summary>
    public void Kill()
    {
        try
        {
            Process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>Kills what is left and releases the process.</summary>
    public void Dispose()
    {
        Kill();
        Process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
