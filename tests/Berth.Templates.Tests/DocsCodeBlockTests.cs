using System.Text.Json;
using System.Text.RegularExpressions;
using Berth.Templates.Tests.Support;

namespace Berth.Templates.Tests;

/// <summary>
/// Every code block in README.md and docs/*.md comes from something CI compiles or runs: C# and Dockerfile blocks
/// are marked <c>&lt;!-- snippet: path[#region] --&gt;</c> and must equal that file or region; JSON blocks must
/// parse; shell blocks may only name scripts, repository paths and `berth` verbs that exist.
/// </summary>
public sealed partial class DocsCodeBlockTests
{
    /// <summary>The documents whose blocks are checked.</summary>
    private static readonly string[] Documents =
    [
        "README.md",
        .. Directory.GetFiles(Repo.File("docs"), "*.md").Select(f => "docs/" + Path.GetFileName(f)).Order(StringComparer.Ordinal),
    ];

    /// <summary>The repository's top-level folders: a shell word starting with one of them is a path that must exist.</summary>
    private static readonly string[] RepoFolders = ["src/", "samples/", "scripts/", "tests/", "docs/", "templates/", "bench/"];

    private static IEnumerable<MarkdownCodeBlock> Blocks(params string[] languages) =>
        Documents.SelectMany(MarkdownCodeBlock.Read).Where(b => languages.Contains(b.Language, StringComparer.Ordinal));

    [Fact]
    public void CodeBlocks_CSharpAndDockerfile_EqualTheirCompiledSnippet()
    {
        var problems = new List<string>();
        var checkedBlocks = 0;
        foreach (var block in Blocks("csharp", "cs", "dockerfile"))
        {
            checkedBlocks++;
            if (block.Snippet is null)
            {
                problems.Add($"{block.Where}: ```{block.Language} block without a <!-- snippet: path[#region] --> marker on the line before it");
                continue;
            }

            var path = block.Snippet.Split('#')[0];
            if (block.Language is "csharp" or "cs" && !(path.EndsWith(".cs", StringComparison.Ordinal) && Snippets.IsInSolution(path)))
            {
                problems.Add($"{block.Where}: snippet {path} is not a C# file of a project in Berth.slnx");
                continue;
            }

            try
            {
                var expected = Snippets.Read(block.Snippet);
                var actual = string.Join('\n', block.Code.Split('\n').Select(l => l.TrimEnd())).TrimEnd('\n');
                if (expected != actual)
                {
                    problems.Add($"{block.Where}: block differs from {block.Snippet} at its line {FirstDifference(expected, actual)}:\n--- snippet\n{expected}\n--- block\n{actual}");
                }
            }
            catch (InvalidOperationException e)
            {
                problems.Add($"{block.Where}: {e.Message}");
            }
        }

        Assert.True(checkedBlocks > 0, "no C# blocks found: the markdown reader is broken");
        Assert.True(problems.Count == 0, string.Join("\n\n", problems));
    }

    [Fact]
    public void CodeBlocks_Json_Parse()
    {
        var problems = new List<string>();
        foreach (var block in Blocks("json", "jsonc"))
        {
            var options = block.Language == "jsonc"
                ? new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }
                : default;

            // A block that starts with a property is a fragment of an object.
            var text = block.Code.TrimStart().StartsWith('"') ? "{" + block.Code + "}" : block.Code;
            try
            {
                using var _ = JsonDocument.Parse(text, options);
            }
            catch (JsonException e)
            {
                problems.Add($"{block.Where}: ```{block.Language} block does not parse: {e.Message}");
            }

            if (block.Snippet is not null && Snippets.Read(block.Snippet) != block.Code.TrimEnd('\n'))
            {
                problems.Add($"{block.Where}: block differs from {block.Snippet}");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task CodeBlocks_Shell_NameExistingPathsAndBerthVerbs()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cli = await BerthCommandTree.ReadAsync(cancel.Token);
        var problems = new List<string>();
        foreach (var block in Blocks("sh", "bash", "shell"))
        {
            foreach (var command in Commands(block.Code))
            {
                var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                foreach (var word in words)
                {
                    var path = word.Trim('\'', '"');
                    if (path.StartsWith("./", StringComparison.Ordinal) && path.Length > 2 && RepoFolders.Any(f => path[2..].StartsWith(f, StringComparison.Ordinal)))
                    {
                        path = path[2..];
                    }

                    var isRepoPath = RepoFolders.Any(f => path.StartsWith(f, StringComparison.Ordinal))
                        || path is "Berth.slnx" or "Berth.Packages.slnf";
                    if (isRepoPath && !File.Exists(Repo.File(path)) && !Directory.Exists(Repo.File(path)))
                    {
                        problems.Add($"{block.Where}: `{command}` names {path}, which does not exist");
                    }
                }

                if (words.Length > 0 && words[0] == "berth" && cli.Check(words[1..]) is { } problem)
                {
                    problems.Add($"{block.Where}: `{command}`: {problem}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>The commands of a shell block: comments dropped, continuation lines joined, split at &&, || , ; and |.</summary>
    private static IEnumerable<string> Commands(string code)
    {
        var joined = code.Replace("\\\n", " ", StringComparison.Ordinal);
        foreach (var line in joined.Split('\n'))
        {
            var withoutComment = ShellComment().Replace(line, "");
            foreach (var command in CommandSeparator().Split(withoutComment))
            {
                if (command.Trim().Length > 0)
                {
                    yield return command.Trim();
                }
            }
        }
    }

    private static int FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var i = 0;
        while (i < e.Length && i < a.Length && e[i] == a[i])
        {
            i++;
        }

        return i + 1;
    }

    [GeneratedRegex(@"(^|\s)#.*$")]
    private static partial Regex ShellComment();

    [GeneratedRegex(@"&&|\|\||;|\|")]
    private static partial Regex CommandSeparator();
}
