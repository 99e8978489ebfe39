namespace Berth.Templates.Tests.Support;

/// <summary>
/// The solution's packages packed once into a local folder feed with a version of their own (so NuGet's global
/// cache never hands back an older pack under the same version), and the template installed from that feed into
/// an isolated template hive. Removes the feed, the hive and its versions in the global package cache at the end.
/// </summary>
public sealed class PackedFeed : IAsyncLifetime
{
    /// <summary>Bound on packing the libraries, the tool and the template (built with this test project).</summary>
    public static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(4);

    /// <summary>Bound on a `dotnet new` or `dotnet tool` call.</summary>
    public static readonly TimeSpan QuickTimeout = TimeSpan.FromMinutes(2);

    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "berth-test-pack-" + Guid.NewGuid().ToString("N")[..12])).FullName;

    /// <summary>The package version this run packs: 0.2.0-t&lt;random&gt;.</summary>
    public string Version { get; } = "0.2.0-t" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>The local folder feed holding every package.</summary>
    public string Feed => Path.Combine(_work, "feed");

    /// <summary>The isolated template hive the template is installed into.</summary>
    public string Hive => Path.Combine(_work, "hive");

    /// <summary>A fresh directory for one test's files.</summary>
    public string NewDirectory(string name)
    {
        var path = Path.Combine(_work, name + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>The packed file of <paramref name="packageId"/>.</summary>
    public string Package(string packageId) => Path.Combine(Feed, $"{packageId}.{Version}.nupkg");

    /// <summary>
    /// Packs the packable projects (Berth.Packages.slnf) from their Release build (this test project references
    /// them, so building it builds them) and installs the template.
    /// </summary>
    public async Task InitializeAsync()
    {
        using var cancel = new CancellationTokenSource(PackTimeout + QuickTimeout);
        await Cli.RunAsync(
            Cli.Start("dotnet", Repo.Root, "pack", "Berth.Packages.slnf", "-c", "Release", "-o", Feed, $"-p:PackageVersion={Version}", "--no-build", "-nologo", "-clp:ErrorsOnly"),
            PackTimeout, cancel.Token);
        await Cli.RunAsync(
            Cli.Start("dotnet", _work, "new", "install", Package("Berth.Templates"), "--debug:custom-hive", Hive),
            QuickTimeout, cancel.Token);
    }

    /// <summary>Removes the work directory and this version from NuGet's global package cache.</summary>
    public Task DisposeAsync()
    {
        TempDirectory.TryDelete(_work);
        var globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        if (Directory.Exists(globalPackages))
        {
            foreach (var package in Directory.GetDirectories(globalPackages, "berth.*"))
            {
                TempDirectory.TryDelete(Path.Combine(package, Version.ToLowerInvariant()));
                if (Directory.Exists(package) && !Directory.EnumerateFileSystemEntries(package).Any())
                {
                    TempDirectory.TryDelete(package);
                }
            }
        }

        return Task.CompletedTask;
    }
}
