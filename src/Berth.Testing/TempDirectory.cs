namespace Berth.Testing;

/// <summary>A fresh directory under the system temp directory (<c>berth-test-*</c>), deleted with everything in it on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    /// <summary>Creates the directory.</summary>
    public TempDirectory() => Directory.CreateDirectory(Path);

    /// <summary>Full path of the directory.</summary>
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "berth-test-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>Writes a file (creating its directories) and returns its full path.</summary>
    /// <param name="relativePath">Path relative to <see cref="Path"/>.</param>
    /// <param name="contents">UTF-8 text to write.</param>
    public string Write(string relativePath, string contents)
    {
        var full = System.IO.Path.Combine(Path, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, contents);
        return full;
    }

    /// <summary>Deletes the directory; a directory already gone or still in use by a dying process is left alone.</summary>
    public void Dispose() => TryDelete(Path);

    /// <summary>Deletes <paramref name="directory"/> recursively, ignoring a missing or busy one.</summary>
    /// <param name="directory">The directory to delete.</param>
    public static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
        }
    }
}
