namespace Berth.Docker.Tests;

public class DockerIgnoreTests
{
    [Theory]
    [InlineData("bin", "bin/Debug/app.dll", true)]
    [InlineData("bin/", "bin/x", true)]
    [InlineData("*.md", "README.md", true)]
    [InlineData("*.md", "docs/README.md", false)]
    [InlineData("**/*.md", "docs/README.md", true)]
    [InlineData("**/obj", "src/a/obj/x.json", true)]
    [InlineData("secret?.txt", "secret1.txt", true)]
    [InlineData("secret?.txt", "secret12.txt", false)]
    [InlineData("./logs", "logs/a.log", true)]
    [InlineData("# comment", "# comment", false)]
    public void IsExcluded_Pattern_MatchesLikeDocker(string pattern, string path, bool excluded) =>
        Assert.Equal(excluded, DockerIgnore.Parse([pattern]).IsExcluded(path));

    [Fact]
    public void IsExcluded_Exception_ReincludesAndLastMatchWins()
    {
        var ignore = DockerIgnore.Parse(["*.txt", "!keep.txt"]);

        Assert.True(ignore.IsExcluded("drop.txt"));
        Assert.False(ignore.IsExcluded("keep.txt"));
        Assert.True(ignore.HasExceptions);
    }
}
