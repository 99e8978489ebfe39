using Berth.Runtime;

namespace Berth.Abstractions.Tests;

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
    [InlineData("/build", "build/out.dll", true)]
    [InlineData("bin", "src/bin/x", false)]
    [InlineData("src/*/obj", "src/app/obj/a.txt", true)]
    public void IsExcluded_Pattern_MatchesLikeDocker(string pattern, string path, bool excluded) =>
        Assert.Equal(excluded, DockerIgnore.Parse([pattern]).IsExcluded(path));

    [Fact]
    public void IsExcluded_Exception_ReincludesAndLastMatchWins()
    {
        var ignore = DockerIgnore.Parse(["*.txt", "!keep.txt"]);

        Assert.True(ignore.IsExcluded("drop.txt"));
        Assert.False(ignore.IsExcluded("keep.txt"));
        Assert.True(ignore.HasExceptions);
        Assert.True(DockerIgnore.Parse(["*.txt", "!keep.txt", "keep.txt"]).IsExcluded("keep.txt"));
    }
}
