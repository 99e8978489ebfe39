using System.Text.RegularExpressions;

namespace Berth.Templates.Tests.Support;

/// <summary>
/// A fenced code block of a markdown file, with the snippet marker on the line before it, if any:
/// <c>&lt;!-- snippet: path/from/repo/root[#region] --&gt;</c>.
/// </summary>
/// <param name="File">The markdown file, relative to the repository root.</param>
/// <param name="Line">The fence's line number (1-based).</param>
/// <param name="Language">The fence's info string (<c>csharp</c>, <c>jsonc</c>, <c>sh</c>…), empty when none.</param>
/// <param name="Code">The block's lines, without the fence's indentation, joined with '\n'.</param>
/// <param name="Snippet">The marker's target, when the block has one.</param>
public sealed partial record MarkdownCodeBlock(string File, int Line, string Language, string Code, string? Snippet)
{
    /// <summary>Where the block is, for messages: <c>docs/x.md:12</c>.</summary>
    public string Where => $"{File}:{Line}";

    /// <summary>Every fenced block of <paramref name="relativePath"/> (a file under the repository root).</summary>
    public static IReadOnlyList<MarkdownCodeBlock> Read(string relativePath)
    {
        var lines = System.IO.File.ReadAllLines(Repo.File(relativePath));
        var blocks = new List<MarkdownCodeBlock>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (Fence().Match(lines[i]) is not { Success: true } open)
            {
                continue;
            }

            var indent = open.Groups["indent"].Value.Length;
            var body = new List<string>();
            var start = i;
            for (i++; i < lines.Length && !IsClosingFence(lines[i]); i++)
            {
                var line = lines[i];
                body.Add(line.Length >= indent && string.IsNullOrWhiteSpace(line[..indent]) ? line[indent..] : line.TrimStart());
            }

            var marker = start > 0 ? SnippetMarker().Match(lines[start - 1]) : Match.Empty;
            blocks.Add(new MarkdownCodeBlock(
                relativePath, start + 1, open.Groups["lang"].Value, string.Join('\n', body), marker.Success ? marker.Groups["target"].Value : null));
        }

        return blocks;
    }

    private static bool IsClosingFence(string line) => line.Trim() == "```";

    [GeneratedRegex(@"^(?<indent> *)```(?<lang>[A-Za-z0-9_+-]*)\s*$")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^\s*<!--\s*snippet:\s*(?<target>\S+)\s*-->\s*$")]
    private static partial Regex SnippetMarker();
}
