using System.Diagnostics;

namespace Berth.Templates.Tests.Support;

/// <summary>The `berth` CLI's commands, read from its own --help (the build of src/Berth.Cli next to these tests).</summary>
internal sealed class BerthCommandTree
{
    private readonly Dictionary<string, BerthCommandTree> _children;

    private BerthCommandTree(Dictionary<string, BerthCommandTree> children) => _children = children;

    /// <summary>Reads the tree by running `berth [command...] --help` for each command.</summary>
    public static async Task<BerthCommandTree> ReadAsync(CancellationToken cancellationToken) => await ReadAsync([], cancellationToken);

    /// <summary>
    /// Why an invocation's command words (after `berth`) name no command, or <see langword="null"/> when they do.
    /// The walk stops at the first option, placeholder (&lt;id&gt;, [..]) or argument of a command without subcommands.
    /// </summary>
    public string? Check(string[] words)
    {
        var node = this;
        var path = "berth";
        foreach (var word in words)
        {
            if (node._children.Count == 0 || word.StartsWith('-') || word.StartsWith('<') || word.StartsWith('['))
            {
                break;
            }

            if (!node._children.TryGetValue(word, out var child))
            {
                return $"'{path}' has no command '{word}'; it has: {string.Join(", ", node._children.Keys.Order(StringComparer.Ordinal))}";
            }

            node = child;
            path += " " + word;
        }

        return node._children.Count > 0 && !words.Any(w => w.StartsWith('-'))
            ? $"'{path}' needs one of its commands: {string.Join(", ", node._children.Keys.Order(StringComparer.Ordinal))}"
            : null;
    }

    private static async Task<BerthCommandTree> ReadAsync(string[] path, CancellationToken cancellationToken)
    {
        var help = await Cli.RunAsync(Cli.Start("dotnet", Repo.Root, [BerthDll(), .. path, "--help"]), TimeSpan.FromMinutes(1), cancellationToken);
        var children = new Dictionary<string, BerthCommandTree>(StringComparer.Ordinal);
        var inCommands = false;
        foreach (var line in help.Split('\n'))
        {
            if (line.TrimEnd() == "Commands:")
            {
                inCommands = true;
                continue;
            }

            if (inCommands && line.StartsWith("  ", StringComparison.Ordinal) && !line.StartsWith("   ", StringComparison.Ordinal))
            {
                // "  logs <class> <id>  Description": the first word is the command.
                var name = line.Trim().Split(' ')[0];
                children[name] = await ReadAsync([.. path, name], cancellationToken);
            }
            else if (inCommands && line.Trim().Length == 0)
            {
                inCommands = false;
            }
        }

        return new BerthCommandTree(children);
    }

    private static string BerthDll()
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<configuration>/<tfm>
        var dll = Repo.File($"src/Berth.Cli/bin/{configuration}/net10.0/berth.dll");
        return File.Exists(dll) ? dll : throw new UnreachableException($"{dll} is missing; build tests/Berth.Templates.Tests (it references src/Berth.Cli).");
    }
}
