namespace Berth.Containers;

/// <summary>
/// The container's last output lines as a start error or a crash loop's message carries them (after
/// <see cref="Heading"/>, always last), and the same message without them for answers to clients that should not read
/// what the container printed (docs/errors.md, "The container's output in errors").
/// </summary>
internal static class ContainerOutputText
{
    /// <summary>What comes between the message and the output lines.</summary>
    public const string Heading = " Last output:\n";

    /// <summary><see cref="Heading"/> and the lines, or nothing when there are none.</summary>
    public static string Suffix(IReadOnlyList<string> output) =>
        output.Count == 0 ? "" : Heading + string.Join("\n", output);

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
