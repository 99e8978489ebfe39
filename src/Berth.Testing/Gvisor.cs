using System.Diagnostics;

namespace Berth.Testing;

/// <summary>
/// gVisor for the tests: makes sure the local engine lists the <c>runsc</c> runtime, registering it the way
/// <c>scripts/bootstrap.sh</c> does (<c>scripts/register-runsc.sh</c>: Debian's runsc with <c>--network=host</c>,
/// dockerd reloaded with SIGHUP only when <c>daemon.json</c> changed) when it is missing.
/// </summary>
public static class Gvisor
{
    /// <summary>The runtime name Berth's config and classes use for gVisor.</summary>
    public const string Runtime = "runsc";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static bool _registered;

    /// <summary>Registers <c>runsc</c> with the engine unless it is already listed.</summary>
    /// <exception cref="InvalidOperationException">The script failed; the message has its output.</exception>
    public static async Task EnsureRegisteredAsync(CancellationToken cancellationToken = default)
    {
        await Gate.WaitAsync(cancellationToken);
        try
        {
            if (_registered)
            {
                return;
            }

            var (infoExit, runtimes) = await RunAsync("docker", ["info", "--format", "{{json .Runtimes}}"], cancellationToken);
            if (infoExit != 0 || !runtimes.Contains("\"runsc\"", StringComparison.Ordinal))
            {
                var script = Path.Combine(RepositoryRoot.Find(), "scripts", "register-runsc.sh");
                var (exit, output) = await RunAsync("bash", [script], cancellationToken);
                if (exit != 0)
                {
                    throw new InvalidOperationException($"{script} failed (exit {exit}): {output}");
                }
            }

            _registered = true;
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await stdout + await stderr);
    }
}
