using System.Text;
using System.Text.RegularExpressions;

namespace Berth.Hosting;

/// <summary>
/// The subset of <c>.dockerignore</c> that decides which context files reach the engine: one pattern per line,
/// <c>#</c> comments, <c>*</c>, <c>?</c> and <c>**</c> wildcards, <c>!</c> exceptions (the last matching line wins);
/// a pattern that matches a directory excludes everything below it.
/// </summary>
internal sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Include)> _rules;

    private DockerIgnore(List<(Regex Pattern, bool Include)> rules) => _rules = rules;

    public static DockerIgnore Empty { get; } = new([]);

    /// <summary>Whether any line is an exception; without one, an excluded directory can be skipped whole.</summary>
    public bool HasExceptions => _rules.Any(r => r.Include);

    public static DockerIgnore Load(string contextDirectory)
    {
        var file = Path.Combine(contextDirectory, ".dockerignore");
        return File.Exists(file) ? Parse(File.ReadAllLines(file)) : Empty;
    }

    public static DockerIgnore Parse(IEnumerable<string> lines)
    {
        var rules = new List<(Regex, bool)>();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var include = line[0] == '!';
            var pattern = (include ? line[1..] : line).Trim().Replace('\\', '/').Trim('/');
            if (pattern.StartsWith("./", StringComparison.Ordinal))
            {
                pattern = pattern[2..];
            }

            if (pattern.Length > 0)
            {
                rules.Add((new Regex(ToRegex(pattern), RegexOptions.CultureInvariant), include));
            }
        }

        return new DockerIgnore(rules);
    }

    /// <summary>Whether <paramref name="relativePath"/> ('/'-separated, relative to the context) stays out of the build.</summary>
    public bool IsExcluded(string relativePath)
    {
        var excluded = false;
        foreach (var (pattern, include) in _rules)
        {
            if (MatchesSelfOrParent(pattern, relativePath))
            {
                excluded = !include;
            }
        }

        return excluded;
    }

    private static bool MatchesSelfOrParent(Regex pattern, string path)
    {
        for (var end = path.Length; end > 0; end = path.LastIndexOf('/', end - 1))
        {
            if (pattern.IsMatch(path.AsSpan(0, end)))
            {
                return true;
            }
        }

        return false;
    }

    private static string ToRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                // "**/" matches any number of directories, including none.
                var slash = i + 2 < pattern.Length && pattern[i + 2] == '/';
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

        return regex.Append('$').ToString();
    }
}
