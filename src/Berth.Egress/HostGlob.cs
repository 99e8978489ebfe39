namespace Berth.Egress;

/// <summary>
/// A host name pattern of an egress rule, matched label by label, case-insensitively, with a trailing dot ignored:
/// <list type="bullet">
/// <item><c>api.example.com</c> matches that host only;</item>
/// <item><c>*</c> in one label matches exactly one label (<c>api.*.internal</c> matches <c>api.eu.internal</c>, not <c>api.internal</c>
/// nor <c>api.a.b.internal</c>);</item>
/// <item>a leading <c>*.</c> matches one or more labels (<c>*.example.com</c> matches <c>a.example.com</c> and <c>a.b.example.com</c>, not
/// <c>example.com</c>);</item>
/// <item>a pattern of just <c>*</c> matches every host.</item>
/// </list>
/// A label may also hold <c>*</c> next to other characters (<c>api-*.example.com</c>); that <c>*</c> matches zero or more characters within the label.
/// </summary>
public sealed class HostGlob
{
    private readonly string[] _labels;

    private HostGlob(string pattern, string[] labels)
    {
        Pattern = pattern;
        _labels = labels;
    }

    /// <summary>The pattern as written (lowercase, no trailing dot).</summary>
    public string Pattern { get; }

    /// <summary>Parses a pattern.</summary>
    /// <param name="pattern">The pattern, for example <c>*.example.com</c>.</param>
    /// <exception cref="ArgumentException">The pattern is empty, has an empty label, or holds a character no host name has.</exception>
    public static HostGlob Parse(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (!TryParse(pattern, out var glob, out var error))
        {
            throw new ArgumentException($"Host pattern '{pattern}' is not valid: {error}", nameof(pattern));
        }

        return glob;
    }

    /// <summary>Parses a pattern, giving the reason when it is not valid.</summary>
    /// <param name="pattern">The pattern.</param>
    /// <param name="glob">The parsed pattern.</param>
    /// <param name="error">Why it is not valid.</param>
    public static bool TryParse(string? pattern, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HostGlob? glob, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        glob = null;
        var text = pattern?.Trim().TrimEnd('.').ToLowerInvariant();
        if (string.IsNullOrEmpty(text))
        {
            error = "it is empty.";
            return false;
        }

        if (text.Length > 253)
        {
            error = "it is longer than 253 characters.";
            return false;
        }

        var labels = text.Split('.');
        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63)
            {
                error = "every label needs 1 to 63 characters.";
                return false;
            }

            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '*'))
                {
                    error = $"'{c}' cannot appear in a host name.";
                    return false;
                }
            }
        }

        glob = new HostGlob(text, labels);
        error = null;
        return true;
    }

    /// <summary>Whether <paramref name="host"/> (a host name without port) matches the pattern.</summary>
    /// <param name="host">A host name as the client sent it; case and a trailing dot do not matter.</param>
    public bool IsMatch(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var name = host.TrimEnd('.');
        if (name.Length == 0)
        {
            return false;
        }

        if (_labels is ["*"])
        {
            return true;
        }

        var labels = name.Split('.');
        if (Array.Exists(labels, l => l.Length == 0))
        {
            return false;
        }

        if (_labels[0] == "*")
        {
            // Leading "*." : one or more labels, then the rest label by label.
            var rest = _labels.Length - 1;
            if (labels.Length < rest + 1)
            {
                return false;
            }

            return LabelsMatch(_labels.AsSpan(1), labels.AsSpan(labels.Length - rest));
        }

        return labels.Length == _labels.Length && LabelsMatch(_labels, labels);
    }

    private static bool LabelsMatch(ReadOnlySpan<string> patterns, ReadOnlySpan<string> labels)
    {
        for (var i = 0; i < patterns.Length; i++)
        {
            if (labels[i].Length == 0 || !LabelMatches(patterns[i], labels[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool LabelMatches(string pattern, string label)
    {
        if (pattern == "*")
        {
            return true;
        }

        if (!pattern.Contains('*', StringComparison.Ordinal))
        {
            return string.Equals(pattern, label, StringComparison.OrdinalIgnoreCase);
        }

        // Wildcards inside a label: iterative match with backtracking to the last '*'.
        int p = 0, l = 0, star = -1, mark = 0;
        while (l < label.Length)
        {
            if (p < pattern.Length && pattern[p] != '*' && char.ToLowerInvariant(label[l]) == pattern[p])
            {
                p++;
                l++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = l;
            }
            else if (star >= 0)
            {
                p = star + 1;
                l = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    /// <inheritdoc />
    public override string ToString() => Pattern;
}
