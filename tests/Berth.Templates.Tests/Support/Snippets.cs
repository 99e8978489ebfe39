using System.Text.RegularExpressions;

namespace Berth.Templates.Tests.Support;

/// <summary>
/// The code a snippet marker names: a whole file (<c>path</c>) or a region of it (<c>path#name</c>, the lines between
/// <c>// snippet: name</c> and <c>// end snippet: name</c>, without their common indentation).
/// </summary>
internal static partial class Snippets
{
    /// <summary>The text of <paramref name="target"/>, lines joined with '\n', without trailing blank lines.</summary>
    /// <exception cref="InvalidOperationException">The file or the region does not exist.</exception>
    public static string Read(string target)
    {
        var hash = target.IndexOf('#', StringComparison.Ordinal);
        var path = hash < 0 ? target : target[..hash];
        var file = Repo.File(path);
        if (!File.Exists(file))
        {
            throw new InvalidOperationException($"snippet file {path} does not exist");
        }

        var lines = File.ReadAllLines(file);
        if (hash < 0)
        {
            return Join(lines);
        }

        var name = target[(hash + 1)..];
        var start = Array.FindIndex(lines, l => l.Trim() == $"// snippet: {name}");
        var end = Array.FindIndex(lines, l => l.Trim() == $"// end snippet: {name}");
        if (start < 0 || end < start)
        {
            throw new InvalidOperationException($"{path} has no region '// snippet: {name}' … '// end snippet: {name}'");
        }

        var region = lines[(start + 1)..end];
        var indent = region.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return Join(region.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

    /// <summary>Whether <paramref name="path"/> (a C# file under the repository root) is compiled by a project of Berth.slnx.</summary>
    public static bool IsInSolution(string path)
    {
        var projects = SolutionProjects().Matches(File.ReadAllText(Repo.File("Berth.slnx")))
            .Select(m => Path.GetDirectoryName(m.Groups["path"].Value)!.Replace('\\', '/') + "/")
            .ToArray();
        return projects.Any(dir => path.StartsWith(dir, StringComparison.Ordinal));
    }

    private static string Join(IEnumerable<string> lines) => string.Join('\n', lines.Select(l => l.TrimEnd())).TrimEnd('\n');

    [GeneratedRegex("<Project Path=\"(?<path>[^\"]+)\"")]
    private static partial Regex SolutionProjects();
}
