namespace Berth.Cli.Tests;

/// <summary>The <c>containers list</c> table: one row per container, the class version each runs.</summary>
public sealed class ContainerTableTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 4, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Render_ContainersOfTwoVersions_VersionColumnSaysWhichRunsWhich()
    {
        var rows = Rows(ContainerTable.Render(
        [
            new ContainerInfo(new string('a', 64), "n1", "Web", new string('1', 64), "old", "running", "berth-demo-web:v1", "1", Now.AddMinutes(-5)),
            new ContainerInfo(new string('b', 64), "n2", "Web", new string('2', 64), "new", "running", "berth-demo-web:v2", "2", Now.AddSeconds(-30)),
            new ContainerInfo(new string('c', 64), "n3", "Web", new string('3', 64), null, "exited", "berth-demo-web:v0", "", Now.AddDays(-1)),
        ], Now));

        Assert.Equal(["CLASS", "NAME", "STATE", "IMAGE", "VERSION", "UPTIME", "OBJECT ID", "CONTAINER"], rows[0]);
        Assert.Equal(["Web", "old", "running", "berth-demo-web:v1", "1", "5m00s", "111111111111", "aaaaaaaaaaaa"], rows[1]);
        Assert.Equal(["Web", "new", "running", "berth-demo-web:v2", "2", "30s", "222222222222", "bbbbbbbbbbbb"], rows[2]);
        Assert.Equal(["Web", "-", "exited", "berth-demo-web:v0", "-", "-", "333333333333", "cccccccccccc"], rows[3]);
    }

    [Fact]
    public void Render_ObjectNameWithEscapeSequences_PrintedVisible()
    {
        // A client chose this object's name in a URL: it must not retitle or clear the operator's terminal, nor reorder the row.
        var table = ContainerTable.Render(
            [new ContainerInfo(new string('a', 64), "n1", "Web", new string('1', 64), "x\u001b]0;PWNED\u0007\u001b[2J\u202eevil", "running", "img:1", "1", Now)], Now);

        Assert.Contains("x^[]0;PWNED^G^[[2J\\u202eevil", table, StringComparison.Ordinal);
        Assert.DoesNotContain(table, c => c is '\u001b' or '\u0007' or '\u202e');
    }

    private static List<string[]> Rows(string table) =>
        [.. table.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Select(line => System.Text.RegularExpressions.Regex.Split(line, " {2,}"))];
}
