using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Berth.Testing;

/// <summary>
/// Publishes a project with <c>dotnet publish</c> (Native AOT when the project says so) only when its binary is
/// missing or older than the project's sources, so test images that copy the binary rebuild only on change.
/// Safe to call from several tests and test processes at once.
/// </summary>
public static class AotPublisher
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>
    /// Publishes <paramref name="projectFile"/> in Release to <paramref name="outputDirectory"/> unless
    /// <paramref name="binaryName"/> there is newer than every file of the project (its <c>bin/</c> and <c>obj/</c> aside)
    /// and the repository's <c>Directory.Build.props</c>. Returns the binary's full path.
    /// </summary>
    /// <param name="projectFile">The <c>.csproj</c> to publish.</param>
    /// <param name="outputDirectory">The <c>-o</c> directory.</param>
    /// <param name="binaryName">File name of the published executable, such as <c>testapp</c>.</param>
    /// <param name="extraArguments">More <c>dotnet publish</c> arguments, such as <c>-r linux-x64</c>.</param>
    /// <param name="cancellationToken">Stops waiting (the publish itself is not killed).</param>
    /// <exception cref="InvalidOperationException">The publish failed; the message carries its output.</exception>
    public static async Task<string> PublishAsync(
        string projectFile, string outputDirectory, string binaryName, IReadOnlyList<string>? extraArguments = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(projectFile);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        ArgumentException.ThrowIfNullOrEmpty(binaryName);
        projectFile = Path.GetFullPath(projectFile);
        outputDirectory = Path.GetFullPath(outputDirectory);
        var binary = Path.Combine(outputDirectory, binaryName);

        await Gate.WaitAsync(cancellationToken);
        try
        {
            var locks = Path.Combine(RepositoryRoot.Find(), ".artifacts", "locks");
            Directory.CreateDirectory(locks);
            await using var processLock = await AcquireFileLockAsync(Path.Combine(locks, $"publish-{Key(binary)}.lock"), cancellationToken);
            if (IsUpToDate(projectFile, binary))
            {
                return binary;
            }

            await RunPublishAsync(projectFile, outputDirectory, extraArguments ?? [], cancellationToken);
            if (!File.Exists(binary))
            {
                throw new InvalidOperationException($"dotnet publish of {projectFile} succeeded but wrote no {binary}.");
            }

            // Publishing an unchanged project keeps the old timestamp; touch it so the cache check holds.
            File.SetLastWriteTimeUtc(binary, DateTime.UtcNow);
            return binary;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Whether <paramref name="binary"/> exists and is at least as new as every source of <paramref name="projectFile"/>.</summary>
    public static bool IsUpToDate(string projectFile, string binary)
    {
        if (!File.Exists(binary))
        {
            return false;
        }

        var project = Path.GetDirectoryName(Path.GetFullPath(projectFile))!;
        var built = File.GetLastWriteTimeUtc(binary);
        var sources = Directory.EnumerateFiles(project, "*", SearchOption.AllDirectories)
            .Where(f => !IsBuildOutput(project, f))
            .Append(Path.Combine(RepositoryRoot.Find(), "Directory.Build.props"))
            .Where(File.Exists);
        return sources.All(s => File.GetLastWriteTimeUtc(s) <= built);
    }

    private static async Task RunPublishAsync(string projectFile, string outputDirectory, IReadOnlyList<string> extraArguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(DotnetPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot.Find(),
        };
        foreach (var argument in (string[])["publish", projectFile, "-c", "Release", "-o", outputDirectory, "-nologo"])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var argument in extraArguments)
        {
            start.ArgumentList.Add(argument);
        }

        // A test host runs inside MSBuild's environment; a nested build must not inherit it.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start dotnet publish for {projectFile}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"dotnet publish of {projectFile} failed with exit code {process.ExitCode}:\n{await stdout}\n{await stderr}");
        }
    }

    private static bool IsBuildOutput(string project, string file)
    {
        var relative = Path.GetRelativePath(project, file).Replace('\\', '/');
        return relative.StartsWith("bin/", StringComparison.Ordinal) || relative.StartsWith("obj/", StringComparison.Ordinal);
    }

    /// <summary>The <c>dotnet</c> executable running the tests, else the one on the PATH.</summary>
    public static string DotnetPath() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static string Key(string binary) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(binary)))[..16];

    /// <summary>An exclusive lock file shared by every test process on this machine.</summary>
    internal static async Task<FileStream> AcquireFileLockAsync(string path, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            }
        }
    }
}
