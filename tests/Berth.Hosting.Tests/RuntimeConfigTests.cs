using Berth.Hosting;
using Berth.Hosting.Tests.Support;

namespace Berth.Hosting.Tests;

/// <summary>The <c>runtime</c> field of a <c>containers[]</c> entry: <c>"runc"</c> or <c>"runsc"</c> (gVisor).</summary>
public sealed class RuntimeConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("runc")]
    [InlineData("runsc")]
    public void Parse_AllowedRuntime_IsRead(string runtime)
    {
        var config = BerthConfigFile.Parse(
            $$"""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "runtime": "{{runtime}}" } ] }""", _dir.Path);

        Assert.Equal(runtime, Assert.Single(config.Containers).Runtime);
    }

    [Fact]
    public void Parse_NoRuntime_LeavesItToTheClass()
    {
        var config = BerthConfigFile.Parse("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox" } ] }""", _dir.Path);

        Assert.Null(Assert.Single(config.Containers).Runtime);
    }

    [Theory]
    [InlineData("\"kata\"", "'kata'")]
    [InlineData("\"RUNSC\"", "'RUNSC'")]
    [InlineData("true", "true")]
    public void Parse_OtherRuntime_NamesFieldValueAndAllowedValues(string value, string shown)
    {
        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse(
            $$"""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "runtime": {{value}} } ] }""", _dir.Path));

        Assert.Equal($"containers[0].runtime: {shown} is not allowed; allowed: \"runc\" or \"runsc\"", Assert.Single(ex.Problems));
    }
}
