using System.Text.RegularExpressions;

namespace Berth.Docker;

/// <summary>
/// Finds what in a Dockerfile the engine's classic builder cannot do. Berth builds through the engine API's classic
/// builder (BuildKit builds need a client session the API alone does not give), so BuildKit-only instruction flags
/// fail the build up front with a message that says so, instead of the engine's "Unknown flag" at that step.
/// </summary>
internal static partial class DockerfileFeatures
{
    /// <summary>The first BuildKit-only flag used in the Dockerfile (e.g. <c>RUN --mount</c>), or <see langword="null"/>.</summary>
    public static string? FindBuildKitOnly(string dockerfile)
    {
        var match = BuildKitFlag().Match(dockerfile);
        return match.Success ? $"{match.Groups["instruction"].Value.ToUpperInvariant()} --{match.Groups["flag"].Value.ToLowerInvariant()}" : null;
    }

    /// <summary>The <c># syntax=</c> parser directive at the top of the Dockerfile, or <see langword="null"/>.</summary>
    public static string? FindSyntaxDirective(string dockerfile)
    {
        foreach (var raw in dockerfile.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            // Parser directives come before anything else; the first non-directive line ends them.
            if (!line.StartsWith('#'))
            {
                return null;
            }

            if (SyntaxDirective().IsMatch(line))
            {
                return line;
            }
        }

        return null;
    }

    [GeneratedRegex(@"^\s*(?<instruction>RUN|COPY|ADD)\s+(?:--\S+\s+)*?--(?<flag>mount|network|security|link|parents|exclude)\b",
        RegexOptions.IgnoreCase | RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex BuildKitFlag();

    [GeneratedRegex(@"^#\s*syntax\s*=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SyntaxDirective();
}
