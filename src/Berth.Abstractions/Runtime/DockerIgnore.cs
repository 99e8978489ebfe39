using System.Text;
using System.Text.RegularExpressions;

namespace Berth.Runtime;

/// <summary>
/// A simple <c>.dockerignore</c>: one glob per line (<c>*</c>, <c>?</c>, <c>**</c>), <c>#</c> comments,
/// <c>!</c> exceptions, last match wins; a pattern that matches a directory excludes everything under it.
/// Character classes (<c>[a-z]</c>) and backslash escapes are not supported.
/// </summary>
public sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Exception)> _rules;

    private DockerIgnore(List<(Regex, bool)> rules) => _rules = rules;

    /// <summary>Whether any line is an exception; without one, an excluded directory can be skipped whole.</summary>
    public bool HasExceptions => _rules.Any(r => r.Exception);

    /// <summary>Reads <c>.dockerignore</c> from a build context directory; none means nothing is excluded.</summary>
    public static DockerIgnore Load(string root)
    {
        var path = Path.Combine(root, ".dockerignore");
        return Parse(File.Exists(path) ? File.ReadAllLines(path) : []);
    }

    /// <summary>Parses the lines of a <c>.dockerignore</c>.</summary>
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
