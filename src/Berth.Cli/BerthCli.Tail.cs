using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Berth.Cli;

// berth tail: the whole app's live log (issue 15).
internal sealed partial class BerthCli
{
    private static readonly string[] TailSources = ["container", "platform", "all"];
    private static readonly string[] TailLevels = ["trace", "debug", "information", "info", "warning", "warn", "error", "critical"];

    /// <summary>How long <c>berth tail</c> keeps trying to reconnect to a host that is not listening (restarting): 60 s.</summary>
    private static readonly TimeSpan TailReconnectWindow = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan TailReconnectEvery = TimeSpan.FromSeconds(1);

    /// <summary>The first wait before following a host again after it said it stopped: 1 s; it doubles while streams end at once.</summary>
    internal static readonly TimeSpan TailBackoffFirst = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait before following a host again after it said it stopped: 10 s.</summary>
    internal static readonly TimeSpan TailBackoffMax = TimeSpan.FromSeconds(10);

    /// <summary>How long a stream must have lasted for the wait to start again from <see cref="TailBackoffFirst"/>: 30 s.</summary>
    internal static readonly TimeSpan TailStreamSettled = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The wait before following the host again after a stream that lasted <paramref name="lasted"/> ended with the host
    /// saying it stops, <paramref name="previous"/> having been the wait before (zero for none): 1 s, doubling to 10 s while
    /// streams end within <see cref="TailStreamSettled"/>, back to 1 s after one that lasted longer.
    /// </summary>
    internal static TimeSpan NextTailBackoff(TimeSpan previous, TimeSpan lasted) =>
        previous <= TimeSpan.Zero || lasted >= TailStreamSettled
            ? TailBackoffFirst
            : TimeSpan.FromTicks(Math.Min(previous.Ticks * 2, TailBackoffMax.Ticks));

    private Command CreateTailCommand()
    {
        var className = new Option<string?>("--class", "-c") { Description = "Only this container class (and the platform's records about it)" };
        var objectRef = new Option<string?>("--object", "-o") { Description = "Only this object: its name, ID or an ID prefix" };
        var source = new Option<string?>("--source") { Description = "container (the containers' output), platform (the host's own records) or all (default)" };
        source.AcceptOnlyFromAmong(TailSources);
        var level = new Option<string?>("--level") { Description = "Only platform records at this level or above (trace … critical); leaves container output out" };
        level.AcceptOnlyFromAmong(TailLevels);
        var tail = new Option<int?>("--tail", "-n") { Description = "Start with the last N records (default: the host's, 100)" };
        tail.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 0 or > 10_000)
            {
                result.AddError($"--tail {result.GetValueOrDefault<int?>()} is not allowed; allowed: 0–10000 records.");
            }
        });
        var json = new Option<bool>("--json") { Description = "Print each record as the host sent it: one JSON object a line" };
        var command = new Command("tail", "Follow the whole app's live log until Ctrl+C: every container's output and the platform's own records")
        {
            className, objectRef, source, level, tail, json,
        };
        command.SetAction((parse, ct) => RunAdminAsync(parse, async (client, dev) =>
        {
            var asJson = parse.GetValue(json);
            var colours = !asJson && UseColours();
            var query = AdminClient.TailQuery(parse.GetValue(className), parse.GetValue(objectRef), parse.GetValue(source), parse.GetValue(level), parse.GetValue(tail));
            Func<string, TailRecord, CancellationToken, Task> print = async (raw, record, token) =>
            {
                await _output.WriteLineAsync(asJson ? raw : FormatTailRecord(record, colours));
                await _output.FlushAsync(token);
            };

            // After a break, new records only.
            var again = AdminClient.TailQuery(parse.GetValue(className), parse.GetValue(objectRef), parse.GetValue(source), parse.GetValue(level), 0);
            var started = _environment.Time.GetUtcNow();
            var end = await client.StreamAppLogsAsync(query, print, ct);
            var lasted = _environment.Time.GetUtcNow() - started;
            var backoff = TimeSpan.Zero;
            var cut = false;
            while (true)
            {
                if (end.HostStopping)
                {
                    // The host said it is stopping. Through berth dev, its state says whether that is a watch restart; else
                    // nobody can tell (a service manager may restart it), so wait, saying so rather than looking hung.
                    cut = false;
                    if (dev is not null && _environment.FindDevState() is not { RestartsTheApp: true })
                    {
                        await _error.WriteLineAsync("berth: the host stopped.");
                        return ExitCodes.Success;
                    }

                    await _error.WriteLineAsync(dev is not null
                        ? $"berth: the host stopped; berth dev is restarting it: waiting up to {TailReconnectWindow.TotalSeconds:0} s for it to listen again (Ctrl+C to quit)."
                        : $"berth: the host stopped; waiting up to {TailReconnectWindow.TotalSeconds:0} s for it to come back (Ctrl+C to quit).");

                    // A host that ends every stream at once (one stuck restarting, or a hostile one) is not asked again in a tight loop.
                    backoff = NextTailBackoff(backoff, lasted);
                    await Task.Delay(backoff, _environment.Time, ct);
                }
                else
                {
                    // Cut without a word (a proxy's timeout, an older host's restart, a crash): reconnect, once in a row.
                    if (cut)
                    {
                        throw new CliException(ExitCodes.HostError, "The host ended the log stream again. Is it stopping?");
                    }

                    cut = true;
                    await _error.WriteLineAsync("berth: the host ended the log stream; reconnecting once.");
                }

                if (await ReconnectTailAsync(client, dev, again, print, ct) is not { } next)
                {
                    await _error.WriteLineAsync("berth: the host stopped (berth dev has ended).");
                    return ExitCodes.Success;
                }

                (end, lasted) = next;
            }
        }));
        return command;
    }

    /// <summary>
    /// Follows the log again, trying every <see cref="TailReconnectEvery"/> for up to <see cref="TailReconnectWindow"/> while the
    /// host does not listen (or, still on its way down, ends each new stream at once); <see langword="null"/> when the
    /// <c>berth dev</c> the host was found through ended or began to stop meanwhile.
    /// </summary>
    /// <returns>How the new stream ended and how long it lasted.</returns>
    /// <exception cref="CliException">The host did not come back in time (<see cref="ExitCodes.HostUnreachable"/>).</exception>
    private async Task<(AppLogStreamEnd End, TimeSpan Lasted)?> ReconnectTailAsync(
        AdminClient client, DevState? dev, string query, Func<string, TailRecord, CancellationToken, Task> print, CancellationToken cancellationToken)
    {
        for (var waited = TimeSpan.Zero; ; waited += TailReconnectEvery)
        {
            if (dev is not null && _environment.FindDevState() is not { Stopping: false })
            {
                return null;
            }

            try
            {
                var started = _environment.Time.GetUtcNow();
                var end = await client.StreamAppLogsAsync(query, print, cancellationToken);
                if (!end.HostStopping || end.Alive)
                {
                    return (end, _environment.Time.GetUtcNow() - started);
                }

                if (waited >= TailReconnectWindow)
                {
                    throw new CliException(ExitCodes.HostUnreachable, $"The host did not come back within {TailReconnectWindow.TotalSeconds:0} s: it is still stopping.");
                }
            }
            catch (CliException ex) when (ex.ExitCode == ExitCodes.HostUnreachable)
            {
                if (waited >= TailReconnectWindow)
                {
                    throw new CliException(ExitCodes.HostUnreachable, $"The host did not come back within {TailReconnectWindow.TotalSeconds:0} s. {ex.Message}");
                }
            }

            await Task.Delay(TailReconnectEvery, _environment.Time, cancellationToken);
        }
    }

    /// <summary>True when standard output is a terminal that wants colours (not redirected, <c>NO_COLOR</c> unset).</summary>
    private bool UseColours() =>
        _rawOutput is not null && !Console.IsOutputRedirected && string.IsNullOrEmpty(_environment.GetVariable("NO_COLOR"));

    /// <summary>
    /// One line of <c>berth tail</c>: <c>time who stream | message</c>, where who is <c>Class/name</c> (or the object ID's first
    /// 8 characters; <c>-</c> when the record names no class) and stream is <c>out</c>, <c>err</c>, or the platform record's level
    /// (<c>trce dbug info warn fail crit</c>) and event name. With <paramref name="colours"/>: errors red, warnings yellow, platform records dim.
    /// </summary>
    internal static string FormatTailRecord(TailRecord record, bool colours)
    {
        var time = record.Time.UtcDateTime.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
        var who = record.Class is null
            ? "-"
            : record.ObjectName is { } name ? $"{record.Class}/{name}"
            : record.Object is { } id ? $"{record.Class}/{(id.Length > 8 ? id[..8] : id)}"
            : record.Class;
        var (stream, colour) = record.Source switch
        {
            "stdout" => ("out", null),
            "stderr" => ("err", "\u001b[33m"),
            _ => record.Level switch
            {
                "trace" => ("trce", "\u001b[2m"),
                "debug" => ("dbug", "\u001b[2m"),
                "warning" => ("warn", "\u001b[33m"),
                "error" => ("fail", "\u001b[31m"),
                "critical" => ("crit", "\u001b[1;31m"),
                _ => ("info", "\u001b[2m"),
            },
        };
        var text = new StringBuilder()
            .Append(time).Append(' ').Append(TerminalText.Escape(who)).Append(' ').Append(stream)
            .Append(record.Source is "stdout" or "stderr" || record.Event is null ? "" : " " + TerminalText.Escape(record.Event))
            .Append(" | ").Append(TerminalText.Escape(record.Message).Replace("\n", "\n    ", StringComparison.Ordinal));
        return colours && colour is not null ? $"{colour}{text}\u001b[0m" : text.ToString();
    }
}
