using System.Text;

namespace Berth.Hosting;

/// <summary>
/// A <c>berth.jsonc</c> was refused. The message lists every problem found, one per line, each as
/// <c>field.path: 'value' is not allowed; allowed: ...</c>, so that one run fixes them all.
/// </summary>
public sealed class BerthConfigException : Exception
{
    /// <summary>Creates the exception from the problems found in <paramref name="filePath"/>.</summary>
    public BerthConfigException(string? filePath, IReadOnlyList<string> problems)
        : base(Format(filePath, problems))
    {
        FilePath = filePath;
        Problems = problems;
    }

    /// <summary>Full path of the refused file; <see langword="null"/> when parsed from a string.</summary>
    public string? FilePath { get; }

    /// <summary>Each problem, prefixed by the path of the field it concerns.</summary>
    public IReadOnlyList<string> Problems { get; }

    private static string Format(string? filePath, IReadOnlyList<string> problems)
    {
        var text = new StringBuilder()
            .Append("Invalid Berth config")
            .Append(filePath is null ? "" : $" '{filePath}'")
            .Append(problems.Count == 1 ? " (1 problem):" : $" ({problems.Count} problems):");
        foreach (var problem in problems)
        {
            text.AppendLine().Append("  ").Append(problem);
        }

        return text.ToString();
    }
}
