using System.Diagnostics;
using Berth.Testing;

namespace Berth.Hosting.EndToEnd.Tests;

/// <summary>What one run of the real <c>berth</c> CLI printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs the built CLI (<c>berth.dll</c>, copied next to the tests) as its own process, as a user would.</summary>
public static class CliProcess
{
    public static string AssemblyPath { get; } = Path.Combine(AppContext.BaseDirectory, "berth.dll");

    public static async Task<CliResult> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo(AotPublisher.DotnetPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(AssemblyPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The token must come from where the test says, never from the developer's environment.
        start.Environment.Remove("BERTH_ADMIN_TOKEN");

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the berth CLI.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"berth {string.Join(' ', args)} did not finish within 2 minutes.");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
