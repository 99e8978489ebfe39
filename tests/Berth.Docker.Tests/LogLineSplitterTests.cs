using System.Text;
using Berth.Runtime;

namespace Berth.Docker.Tests;

/// <summary>How the engine's log frames become lines: a container's output never decides how long a line the host holds.</summary>
public sealed class LogLineSplitterTests
{
    [Fact]
    public void Add_LineLongerThanTheLimit_KeepsItsEndAfterAnEllipsisAndTheNextLineIntact()
    {
        var splitter = new DockerContainerRuntime.LineSplitter(LogStream.Stdout);
        var lines = new List<LogLine>();
        splitter.Add("2026-12-01T15:32:05.436080177Z "u8, lines);
        var chunk = Encoding.UTF8.GetBytes(new string('B', 16 * 1024));
        for (var i = 0; i < 64; i++) // 1 MiB without a newline, in frames as the engine sends them
        {
            splitter.Add(chunk, lines);
        }

        splitter.Add(" Error: the end\nnext\n"u8, lines);

        Assert.Equal(2, lines.Count);
        // Its end, where the error is (before, the first 64 Ki characters were kept and the end dropped), and its time.
        Assert.Equal(DockerContainerRuntime.LineSplitter.MaxLineChars + 1, lines[0].Text.Length);
        Assert.StartsWith("…B", lines[0].Text, StringComparison.Ordinal);
        Assert.EndsWith("B Error: the end", lines[0].Text, StringComparison.Ordinal);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 15, 32, 5, TimeSpan.Zero).AddTicks(4360801), lines[0].Timestamp);
        Assert.Equal("next", lines[1].Text);
    }

    [Fact]
    public void Add_WithoutTimestamps_ALineStartingWithATimeIsTheContainersText()
    {
        var splitter = new DockerContainerRuntime.LineSplitter(LogStream.Stdout, timestamps: false);
        var lines = new List<LogLine>();

        splitter.Add("2026-12-01T15:32:05Z the app's own time\n"u8, lines);

        var line = Assert.Single(lines);
        Assert.Equal("2026-12-01T15:32:05Z the app's own time", line.Text);
        Assert.Null(line.Timestamp);
    }

    [Fact]
    public void Add_LineAtTheLimit_KeptWhole()
    {
        var splitter = new DockerContainerRuntime.LineSplitter(LogStream.Stderr);
        var lines = new List<LogLine>();
        splitter.Add(Encoding.UTF8.GetBytes(new string('x', DockerContainerRuntime.LineSplitter.MaxLineChars) + "\n"), lines);

        Assert.Equal(new string('x', DockerContainerRuntime.LineSplitter.MaxLineChars), Assert.Single(lines).Text);
    }
}
