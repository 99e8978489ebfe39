using System.Formats.Tar;
using Berth.Runtime;

namespace Berth.Docker;

/// <summary>
/// Packs a build context directory into the tar stream the engine's build endpoint expects,
/// leaving out what <c>.dockerignore</c> excludes.
/// </summary>
internal static class BuildContext
{
    /// <summary>Writes the context as a tar to a temporary file (deleted when the stream closes), positioned at 0.</summary>
    public static async Task<Stream> PackAsync(string contextDirectory, string dockerfile, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(contextDirectory);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"Build context directory '{root}' does not exist.");
        }

        var ignore = DockerIgnore.Load(root);
        var file = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 81920,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            await using (var writer = new TarWriter(file, TarEntryFormat.Pax, leaveOpen: true))
            {
                await AddDirectoryAsync(writer, root, root, ignore, NormalizeRelative(dockerfile), cancellationToken);
            }

            file.Position = 0;
            return file;
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    private static async Task AddDirectoryAsync(TarWriter writer, string root, string directory, DockerIgnore ignore, string dockerfile, CancellationToken cancellationToken)
    {
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var relative = Path.GetRelativePath(root, entry.FullName).Replace(Path.DirectorySeparatorChar, '/');
            // The engine needs the Dockerfile and .dockerignore even when they are ignored (as docker's CLI does).
            var excluded = ignore.IsExcluded(relative) && relative != dockerfile && relative != ".dockerignore";
            var isDirectory = entry is DirectoryInfo && entry.LinkTarget is null;
            if (excluded && !(isDirectory && ignore.HasExceptions))
            {
                continue;
            }

            if (!excluded)
            {
                await writer.WriteEntryAsync(entry.FullName, relative, cancellationToken);
            }

            if (isDirectory)
            {
                await AddDirectoryAsync(writer, root, entry.FullName, ignore, dockerfile, cancellationToken);
            }
        }
    }

    private static string NormalizeRelative(string path) =>
        path.Replace('\\', '/').TrimStart('.', '/');
}
