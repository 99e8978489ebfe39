using System.Formats.Tar;
using System.Text;
using System.Text.RegularExpressions;

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

/// <summary>
/// A simple <c>.dockerignore</c>: one glob per line (<c>*</c>, <c>?</c>, <c>**</c>), <c>#</c> comments,
/// <c>!</c> exceptions, last match wins; a pattern that matches a directory excludes everything under it.
/// Character classes (<c>[a-z]</c>) and backslash escapes are not supported.
/// </summary>
internal sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Exception)> _rules;

    private DockerIgnore(List<(Regex, bool)> rules) => _rules = rules;

    public bool HasExceptions => _rules.Any(r => r.Exception);

    public static DockerIgnore Load(string root)
    {
        var path = Path.Combine(root, ".dockerignore");
        return Parse(File.Exists(path) ? File.ReadAllLines(path) : []);
    }

    public static DockerIgnore Parse(IEnumerable<string> lines)
    {
        var rules = new List<(Regex, bool)>();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var exception = line.StartsWith('!');
            var pattern = (exception ? line[1..] : line).Trim().Replace('\\', '/');
            while (pattern.StartsWith("./", StringComparison.Ordinal))
            {
                pattern = pattern[2..];
            }

            pattern = pattern.Trim('/');
            if (pattern.Length > 0)
            {
                rules.Add((ToRegex(pattern), exception));
            }
        }

        return new DockerIgnore(rules);
    }

    /// <summary>Whether a context-relative path (with <c>/</c> separators) is left out.</summary>
    public bool IsExcluded(string relativePath)
    {
        var excluded = false;
        foreach (var (pattern, exception) in _rules)
        {
            if (MatchesSelfOrParent(pattern, relativePath))
            {
                excluded = !exception;
            }
        }

        return excluded;
    }

    private static bool MatchesSelfOrParent(Regex pattern, string path)
    {
        for (var end = path.Length; end > 0; end = path.LastIndexOf('/', end - 1))
        {
            if (pattern.IsMatch(path[..end]))
            {
                return true;
            }
        }

        return false;
    }

    private static Regex ToRegex(string glob)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                // "**/" matches zero or more directories; a trailing "**" matches everything below.
                var slash = i + 2 < glob.Length && glob[i + 2] == '/';
                regex.Append(slash ? "(?:.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else
            {
                regex.Append(c switch
                {
                    '*' => "[^/]*",
                    '?' => "[^/]",
                    _ => Regex.Escape(c.ToString()),
                });
            }
        }

        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
