using System.Text;
using Berth.Runtime;

namespace Berth.Docker.Tests;

/// <summary>How the engine's log frames become lines: a container's output never decides how long a line the host holds.</summary>
public sealed class LogLineSplitterTests
{
    [Fact]
    public void Add_LineLongerThanTheLimit_CutWithAnEllipsisAndTheNextLineIntact()
    {
        var splitter = new DockerContainerRuntime.LineSplitter(LogStream.Stdout);
        var lines = new List<LogLine>();
        var chunk = Encoding.UTF8.GetBytes(new string('B', 16 * 1024));
        for (var i = 0; i < 64; i++) // 1 MiB without a newline, in frames as the engine sends them
        {
            splitter.Add(chunk, lines);
        }

        splitter.Add("\nnext\n"u8, lines);

        Assert.Equal(2, lines.Count);
        Assert.Equal(DockerContainerRuntime.LineSplitter.MaxLineChars + 1, lines[0].Text.Length);
        Assert.EndsWith("B…", lines[0].Text, StringComparison.Ordinal);
        Assert.Equal("next", lines[1].Text);
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
