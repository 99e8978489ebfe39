namespace Berth.Templates.Tests.Support;

/// <summary>The repository this test assembly was built from.</summary>
internal static class Repo
{
    /// <summary>The directory holding Berth.slnx, found upwards from the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A path under <see cref="Root"/>, given with '/' separators.</summary>
    public static string File(string relativePath) => Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Berth.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Berth.slnx above {AppContext.BaseDirectory}.");
    }
}
