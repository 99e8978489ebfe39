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
}
