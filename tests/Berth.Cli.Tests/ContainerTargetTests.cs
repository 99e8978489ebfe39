namespace Berth.Cli.Tests;

public sealed class ContainerTargetTests
{
    private const string ObjectId = "3f2a9c0d4b5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8";

    [Fact]
    public void Describe_GivenByName_ClassAndName()
    {
        var target = ContainerTarget.Parse("Sandbox/session-1", null);

        Assert.Equal("Sandbox/session-1", target.Describe(ObjectId));
    }

    [Fact]
    public void Describe_GivenByIdPrefix_ClassAndWholeId()
    {
        var target = ContainerTarget.Parse("Sandbox", "3F2A9C");

        Assert.Equal($"Sandbox/{ObjectId}", target.Describe(ObjectId));
    }
}
