namespace Berth.Containers.Tests;

public sealed class ContainerOutputTextTests
{
    [Fact]
    public void WithoutOutput_MessageWithOutput_CutAtTheHeadingAndSaysWhereItIs()
    {
        var message = "Container Web a1 exited with code 1 before it was ready." + ContainerOutputText.Suffix(["DB_PASSWORD=hunter2", "bye"]);

        Assert.Equal("Container Web a1 exited with code 1 before it was ready. Its last output is in the host's log.", ContainerOutputText.WithoutOutput(message));
    }

    [Fact]
    public void WithoutOutput_OutputThatPrintsTheHeadingItself_NothingOfItRemains()
    {
        var message = "Container Web a1 is in a crash loop." + ContainerOutputText.Suffix([ContainerOutputText.Heading + "secret", "more"]);

        var cut = ContainerOutputText.WithoutOutput(message);

        Assert.DoesNotContain("secret", cut);
        Assert.DoesNotContain("more", cut);
    }

    [Fact]
    public void WithoutOutput_NoOutput_Unchanged()
    {
        const string message = "Container Web a1 did not accept connections on port 8080 within 30 s.";

        Assert.Equal(message, ContainerOutputText.WithoutOutput(message + ContainerOutputText.Suffix([])));
    }

    [Fact]
    public void TailWithin_LineOverTheBudget_KeepsItsEndWithinTheBytes()
    {
        var line = new string('x', 200_000) + " Error: config.ini not found";

        var tail = ContainerOutputText.TailWithin(line, 4095);

        Assert.EndsWith("Error: config.ini not found", tail, StringComparison.Ordinal);
        Assert.StartsWith("…", tail, StringComparison.Ordinal);
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(tail), 4000, 4095);
    }

    [Fact]
    public void TailWithin_MultiByteCharacters_NeverSplitsAPairOrGoesOver()
    {
        var line = string.Concat(Enumerable.Repeat("é😀", 1000));

        var tail = ContainerOutputText.TailWithin(line, 101);

        Assert.True(System.Text.Encoding.UTF8.GetByteCount(tail) <= 101);
        Assert.False(char.IsLowSurrogate(tail[1]), "the cut split a surrogate pair");
        Assert.EndsWith("😀", tail, StringComparison.Ordinal);
    }

    [Fact]
    public void TailWithin_LineWithinTheBudget_Unchanged() => Assert.Equal("short", ContainerOutputText.TailWithin("short", 4095));
}
