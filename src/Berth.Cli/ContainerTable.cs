using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Berth.Cli;

/// <summary>The table <c>berth containers list</c> prints: plain aligned columns, no colour, safe for pipes and scripts.</summary>
internal static class ContainerTable
{
    /// <summary>Renders <paramref name="containers"/> as text ending in a line break; uptimes are measured to <paramref name="now"/>.</summary>
    public static string Render(IReadOnlyList<ContainerInfo> containers, DateTimeOffset now)
    {
        if (containers.Count == 0)
        {
            return "No containers." + Environment.NewLine;
        }

        var table = new Table().Border(TableBorder.None).HideRowSeparators();
        string[] headers = ["CLASS", "NAME", "STATE", "IMAGE", "VERSION", "UPTIME", "OBJECT ID", "CONTAINER"];
        for (var i = 0; i < headers.Length; i++)
        {
            table.AddColumn(new TableColumn(new Text(headers[i])).PadLeft(0).PadRight(i == headers.Length - 1 ? 0 : 2).NoWrap());
        }

        foreach (var c in containers)
        {
            // Text, not markup: names and images come from the app and may hold '[' or ']'.
            table.AddRow(new IRenderable[]
            {
                // Names come from clients (a URL picks an object's name): control characters are shown, never sent to the terminal.
                Cell(c.Class), Cell(c.ObjectName ?? "-"), Cell(c.State), Cell(c.Image), Cell(string.IsNullOrEmpty(c.Version) ? "-" : c.Version),
                new Text(c.State == "running" ? Uptime(now - c.Created) : "-"), new Text(BerthCli.Short(c.Object)), new Text(BerthCli.Short(c.Id)),
            });
        }

        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 4096;
        console.Write(table);
        var lines = writer.ToString().ReplaceLineEndings("\n").Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0);
        return string.Join(Environment.NewLine, lines) + Environment.NewLine;
    }

    private static Text Cell(string text) => new(TerminalText.Escape(text));

    /// <summary>An uptime as its two largest units: <c>45s</c>, <c>3m12s</c>, <c>2h05m</c>, <c>4d03h</c>.</summary>
    internal static string Uptime(TimeSpan elapsed)
    {
        if (elapsed < TimeSpan.Zero)
        {
            elapsed = TimeSpan.Zero;
        }

        return elapsed.TotalDays >= 1 ? $"{(int)elapsed.TotalDays}d{elapsed.Hours:00}h"
            : elapsed.TotalHours >= 1 ? $"{(int)elapsed.TotalHours}h{elapsed.Minutes:00}m"
            : elapsed.TotalMinutes >= 1 ? $"{(int)elapsed.TotalMinutes}m{elapsed.Seconds:00}s"
            : $"{(int)elapsed.TotalSeconds}s";
    }
}
