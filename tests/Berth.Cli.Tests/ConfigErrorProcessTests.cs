using System.Diagnostics;
using System.Reflection;

namespace Berth.Cli.Tests;

/// <summary>A real app process (the Sandbox sample, which calls AddBerth(UseConfigFile)) with a bad berth.jsonc.</summary>
public sealed class ConfigErrorProcessTests : IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Host_BadConfigFile_PrintsEveryProblemAndExits78WithoutStackTrace()
    {
        _dir.Write("berth.jsonc", """
            // Three mistakes: a misspelt field, a bad value and a bad cron line.
            {
              "name": "sandbox",
              "containers": [ { "class_name": "Sandbox", "image": "busybox:1.36", "max_instanses": 3, "instance_type": "huge" } ],
              "triggers": { "crons": ["0 0 32 * *"] }
            }
            """);

        var (exitCode, stdout, stderr) = await RunSampleAsync(_dir.Path);

        Assert.Equal(78, exitCode);
        Assert.Contains($"Invalid Berth config '{Path.Combine(_dir.Path, "berth.jsonc")}' (3 problems):", stderr, StringComparison.Ordinal);
        Assert.Contains("containers[0].max_instanses: unknown field 'max_instanses' is not allowed; did you mean 'max_instances'?", stderr, StringComparison.Ordinal);
        Assert.Contains("containers[0].instance_type: 'huge' is not allowed; allowed: lite, dev, basic", stderr, StringComparison.Ordinal);
        Assert.Contains(
            "triggers.crons[0]: '0 0 32 * *' is not allowed: field 3 (day-of-month) '32' is not allowed; the day-of-month field takes 1–31",
            stderr, StringComparison.Ordinal);
        Assert.Contains("exit code 78, EX_CONFIG). Fix the file and start it again.", stderr, StringComparison.Ordinal);
        Assert.Single(Occurrences(stderr + stdout, "Invalid Berth config"));
        Assert.DoesNotContain("Unhandled exception", stderr + stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr + stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_BadConfigUnderBerthDev_LeavesWhatHappensNextToTheCliAndPrintsTheProblemsOnce()
    {
        _dir.Write("berth.jsonc", """
            { "name": "sandbox", "containers": [ { "class_name": "Sandbox", "image": "busybox:1.36", "instance_type": "huge" } ] }
            """);

        var (exitCode, stdout, stderr) = await RunSampleAsync(_dir.Path, dev: true);

        Assert.Equal(78, exitCode);
        Assert.Contains("exit code 78, EX_CONFIG). Fix the file.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("start it again", stderr, StringComparison.Ordinal);
        Assert.Single(Occurrences(stderr + stdout, "Invalid Berth config"));
    }

    private static IEnumerable<int> Occurrences(string text, string value)
    {
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            yield return at;
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunSampleAsync(string contentRoot, bool dev = false)
    {
        var sample = typeof(ConfigErrorProcessTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "SandboxSamplePath").Value!;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            ArgumentList = { sample, "--contentRoot", contentRoot, "--urls", "http://127.0.0.1:0" },
        };
        if (dev)
        {
            start.Environment["BERTH_DEV"] = "1";
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ExitTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The sample did not exit within {ExitTimeout.TotalSeconds} s; output: {await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
