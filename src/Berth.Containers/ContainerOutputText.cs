namespace Berth.Containers;

/// <summary>
/// The container's last output lines as a start error or a crash loop's message carries them (after
/// <see cref="Heading"/>, always last), and the same message without them for answers to clients that should not read
/// what the container printed (the gateway's `ContainerOutputInErrors`, docs/errors.md).
/// </summary>
internal static class ContainerOutputText
{
    /// <summary>What comes between the message and the output lines.</summary>
    public const string Heading = " Last output:\n";

    /// <summary><see cref="Heading"/> and the lines, or nothing when there are none.</summary>
    public static string Suffix(IReadOnlyList<string> output) =>
        output.Count == 0 ? "" : Heading + string.Join("\n", output);

    /// <summary>
    /// The end of <paramref name="line"/> in at most <paramref name="maxBytes"/> bytes of UTF-8, after "…" when it was cut: a
    /// line longer than the whole output budget keeps its end (where an error usually is) instead of being dropped, so a
    /// container cannot hide its last output behind one huge line. Never splits a surrogate pair.
    /// </summary>
    public static string TailWithin(string line, int maxBytes)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(line) <= maxBytes)
        {
            return line;
        }

        const string Cut = "…";
        var budget = maxBytes - System.Text.Encoding.UTF8.GetByteCount(Cut);
        var start = line.Length;
        for (var used = 0; start > 0; start--)
        {
            var c = line[start - 1];
            var size = c < 0x80 ? 1 : c < 0x800 || char.IsSurrogate(c) ? 2 : 3;
            if (used + size > budget)
            {
                break;
            }

            used += size;
        }

        if (start < line.Length && char.IsLowSurrogate(line[start]))
        {
            start++;
        }

        return budget <= 0 ? "" : Cut + line[start..];
    }

    /// <summary>
    /// <paramref name="message"/> cut before its output lines, saying where they are instead; unchanged when it has none.
    /// Cut at the first heading: what follows it is the container's, even if it prints the heading itself.
    /// </summary>
    public static string WithoutOutput(string message)
    {
        var heading = message.IndexOf(Heading, StringComparison.Ordinal);
        return heading < 0
            ? message
            : string.Concat(message.AsSpan(0, heading), " Its last output is in the host's log.");
    }
}
