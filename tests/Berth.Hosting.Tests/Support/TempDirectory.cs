namespace Berth.Hosting.Tests.Support;

/// <summary>A fresh directory under the system temp directory, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "berth-test-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>Writes a file (creating its directories) and returns its full path.</summary>
    public string Write(string relativePath, string contents)
    {
        var full = System.IO.Path.Combine(Path, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, contents);
        return full;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
