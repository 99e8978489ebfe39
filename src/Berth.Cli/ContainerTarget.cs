using System.Globalization;
using System.Text.RegularExpressions;

namespace Berth.Cli;

/// <summary>
/// Which object's container a command is about: <c>Class/name</c> (the name given to <c>IdFromName</c>), or the class
/// and the object ID (or an unambiguous prefix of it) as two arguments, as <c>berth containers list</c> shows them.
/// </summary>
/// <param name="Class">The container class (<c>class_name</c>).</param>
/// <param name="Object">The object's name, its ID, or a prefix of the ID; the host tries them in that order.</param>
internal sealed partial record ContainerTarget(string Class, string Object)
{
    /// <summary>What a target looks like, for messages.</summary>
    public const string Usage = "'Class/name' (such as Sandbox/session-1), or the class and the object ID (or a prefix) from 'berth containers list'";

    /// <summary>Reads the target from the first argument and, when it has no '/', the second.</summary>
    /// <exception cref="CliException">A part is missing or empty (exit code <see cref="ExitCodes.Usage"/>), saying what to give.</exception>
    public static ContainerTarget Parse(string target, string? id)
    {
        string className;
        string objectRef;
        var slash = target.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            if (id is not null)
            {
                throw new CliException(ExitCodes.Usage,
                    $"'{target}' already names the object, so '{id}' is one argument too many. Give {Usage}.");
            }

            className = target[..slash];
            objectRef = target[(slash + 1)..];
        }
        else
        {
            className = target;
            objectRef = id ?? throw new CliException(ExitCodes.Usage,
                $"Missing the object after class '{target}': give {Usage}.");
        }

        if (string.IsNullOrWhiteSpace(className))
        {
            throw new CliException(ExitCodes.Usage, $"The class in '{target}' is empty: give {Usage}.");
        }

        if (!ClassRegex().IsMatch(className))
        {
            throw new CliException(ExitCodes.Usage,
                $"'{className}' is not a container class name; allowed: a C# identifier, the class_name in berth.jsonc.");
        }

        if (string.IsNullOrWhiteSpace(objectRef))
        {
            throw new CliException(ExitCodes.Usage,
                $"The object name or ID is empty. Give the object's name (the one the app passes to IdFromName/GetByName), "
                + $"as {className}/<name>, or its ID from 'berth containers list'.");
        }

        return new ContainerTarget(className, objectRef);
    }

    /// <summary>The target as the user would type it.</summary>
    public override string ToString() => $"{Class}/{Object}";

    /// <summary>
    /// The object as the user knows it, for messages: <c>Class/name</c> when it was given by name, else <c>Class/</c> and the
    /// whole resolved ID <paramref name="objectId"/> (64 hex characters), whatever prefix was typed.
    /// </summary>
    public string Describe(string objectId) =>
        objectId.StartsWith(Object, StringComparison.OrdinalIgnoreCase) ? $"{Class}/{objectId}" : ToString();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex ClassRegex();
}

/// <summary>Reads <c>logs --since</c>: a duration before now (<c>90s</c>, <c>10m</c>, <c>1h30m</c>, <c>2d</c>) or an RFC 3339 time.</summary>
internal static partial class SinceParser
{
    /// <summary>What --since accepts, for messages.</summary>
    public const string Allowed = "a duration before now such as 90s, 10m, 1h30m or 2d (units ms, s, m, h, d), or an RFC 3339 time such as 2026-01-02T03:04:05Z";

    /// <summary>The instant <paramref name="text"/> means, <paramref name="now"/> being the current time.</summary>
    /// <exception cref="CliException">Neither form (exit code <see cref="ExitCodes.Usage"/>).</exception>
    public static DateTimeOffset Parse(string text, DateTimeOffset now)
    {
        var trimmed = text.Trim();
        if (DurationRegex().IsMatch(trimmed))
        {
            var total = TimeSpan.Zero;
            foreach (Match part in DurationPartRegex().Matches(trimmed))
            {
                if (!long.TryParse(part.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount > 1_000_000_000)
                {
                    throw new CliException(ExitCodes.Usage, $"--since '{text}' is too large; allowed: {Allowed}.");
                }

                // In milliseconds: 1e9 days is past TimeSpan's range; any duration reaching before 1970 means "from the start", as before.
                var unitMs = part.Groups[2].Value switch
                {
                    "ms" => 1L,
                    "s" => 1_000L,
                    "m" => 60_000L,
                    "h" => 3_600_000L,
                    _ => 86_400_000L,
                };
                var partMs = amount * unitMs;
                if (partMs > (long)(now - DateTimeOffset.UnixEpoch).TotalMilliseconds || total.TotalMilliseconds + partMs > (now - DateTimeOffset.UnixEpoch).TotalMilliseconds)
                {
                    return DateTimeOffset.UnixEpoch;
                }

                total += TimeSpan.FromMilliseconds(partMs);
            }

            return total < now - DateTimeOffset.UnixEpoch ? now - total : DateTimeOffset.UnixEpoch;
        }

        // RFC 3339 needs a date, a time and an offset ('Z' or ±hh:mm); a bare date or a local time is refused, not guessed.
        if (Rfc3339Regex().IsMatch(trimmed)
            && DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant))
        {
            return instant;
        }

        throw new CliException(ExitCodes.Usage, $"--since '{text}' is not allowed; allowed: {Allowed}.");
    }

    [GeneratedRegex("^(?:[0-9]+(?:ms|s|m|h|d))+$")]
    private static partial Regex DurationRegex();

    [GeneratedRegex("([0-9]+)(ms|s|m|h|d)")]
    private static partial Regex DurationPartRegex();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$")]
    private static partial Regex Rfc3339Regex();
}
