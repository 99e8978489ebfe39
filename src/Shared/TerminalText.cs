using System.Text;

namespace Berth;

/// <summary>
/// Makes text from containers safe to print on an operator's terminal: a tenant's output must not move the cursor, rewrite
/// earlier lines, set the window title or the clipboard (OSC 52) of whoever tails it, or reorder what is shown (Unicode
/// bidirectional overrides). Control characters are shown in caret notation (ESC as <c>^[</c>, CR as <c>^M</c>), C1 controls
/// and invisible format characters (U+202E, U+2066, U+200F, …) as <c>\u202e</c>; tab and newline pass.
/// </summary>
/// <remarks>
/// Used for every text Berth prints that a client or container chose: <c>berth tail</c> and <c>berth containers logs</c> lines,
/// the object names and images in <c>containers list</c> and <c>usage</c> tables (<c>--json</c> output is JSON-escaped already),
/// and a crashed container's last output in the host's own log. One source file compiled into the CLI and
/// <c>Berth.Containers</c> (linked in both projects): the CLI references no other Berth project, and a shared assembly
/// for one class would be one more package to ship.
/// </remarks>
internal static class TerminalText
{
    /// <summary>Returns <paramref name="text"/> with control characters made visible; the same instance when it has none.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var first = IndexOfControl(text, 0);
        if (first < 0)
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 8).Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (!IsControl(c))
            {
                escaped.Append(c);
            }
            else if (c < 0x20)
            {
                escaped.Append('^').Append((char)(c + 64));
            }
            else if (c == 0x7F)
            {
                escaped.Append("^?");
            }
            else
            {
                escaped.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return escaped.ToString();
    }

    private static int IndexOfControl(string text, int start)
    {
        for (var i = start; i < text.Length; i++)
        {
            if (IsControl(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsControl(char c) =>
        c is (< ' ' and not '\t' and not '\n') or '\u007f' or (>= '\u0080' and <= '\u009f')
        || (c > '\u009f' && char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format);
}
