using System.Runtime.Versioning;
using Berth.Hosting.Tests.Support;

namespace Berth.Hosting.Tests;

public sealed class ImageContentHashTests : IDisposable
{
    private static readonly Dictionary<string, string> NoArgs = [];

    private readonly TempDirectory _dir = new();
    private readonly string _dockerfile;

    public ImageContentHashTests()
    {
        _dockerfile = _dir.Write("Dockerfile", "FROM scratch\nCOPY . /app\n");
        _dir.Write("app/main.py", "print('hello')\n");
        _dir.Write("app/model.bin", "weights");
    }

    public void Dispose() => _dir.Dispose();

    private string Hash(IReadOnlyDictionary<string, string>? args = null) => ImageContentHash.Compute(_dockerfile, _dir.Path, args ?? NoArgs);

    [Fact]
    public void Compute_NothingChanged_SameShortHash()
    {
        var first = Hash();

        Assert.Equal(first, Hash());
        Assert.Matches("^[0-9a-f]{12}$", first);
    }

    [Fact]
    public void Compute_DockerfileChanged_Differs()
    {
        var before = Hash();
        File.AppendAllText(_dockerfile, "ENV A=1\n");

        Assert.NotEqual(before, Hash());
    }

    [Fact]
    public void Compute_ContextFileChanged_Differs()
    {
        var before = Hash();
        _dir.Write("app/main.py", "print('bye')\n");

        Assert.NotEqual(before, Hash());
    }

    [Fact]
    public void Compute_ContextFileAddedOrRenamed_Differs()
    {
        var before = Hash();
        _dir.Write("app/extra.txt", "");
        var added = Hash();
        File.Move(Path.Combine(_dir.Path, "app/extra.txt"), Path.Combine(_dir.Path, "app/other.txt"));

        Assert.NotEqual(before, added);
        Assert.NotEqual(added, Hash());
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public void Compute_FileMadeExecutable_Differs()
    {
        var before = Hash();
        var file = Path.Combine(_dir.Path, "app/main.py");
        File.SetUnixFileMode(file, File.GetUnixFileMode(file) | UnixFileMode.UserExecute);

        Assert.NotEqual(before, Hash());
    }

    [Fact]
    public void Compute_BuildArgChanged_DiffersButOrderDoesNot()
    {
        var one = Hash(new Dictionary<string, string> { ["A"] = "1", ["B"] = "2" });

        Assert.Equal(one, Hash(new Dictionary<string, string> { ["B"] = "2", ["A"] = "1" }));
        Assert.NotEqual(one, Hash(new Dictionary<string, string> { ["A"] = "1", ["B"] = "3" }));
        Assert.NotEqual(one, Hash());
    }

    [Fact]
    public void Compute_IgnoredFileChanged_Same()
    {
        _dir.Write(".dockerignore", "# local only\n*.log\nnode_modules\n");
        _dir.Write("debug.log", "one");
        _dir.Write("node_modules/x/index.js", "one");
        var before = Hash();

        _dir.Write("debug.log", "two");
        _dir.Write("node_modules/x/index.js", "two");
        _dir.Write("node_modules/y.js", "new");

        Assert.Equal(before, Hash());
    }

    [Fact]
    public void Compute_ExceptionUnderIgnoredDirectoryChanged_Differs()
    {
        _dir.Write(".dockerignore", "data\n!data/keep.csv\n");
        _dir.Write("data/keep.csv", "a,b");
        _dir.Write("data/scratch.tmp", "x");
        var before = Hash();

        _dir.Write("data/scratch.tmp", "y");
        Assert.Equal(before, Hash());
        _dir.Write("data/keep.csv", "a,c");
        Assert.NotEqual(before, Hash());
    }
}
