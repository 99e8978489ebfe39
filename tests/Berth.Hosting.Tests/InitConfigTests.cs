using Berth.Containers;
using Berth.Hosting.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Berth.Hosting.Tests;

public sealed class InitConfigured : Container;

/// <summary>The config's <c>init</c> field: read as a boolean, rejected otherwise, and applied to the class unless absent.</summary>
public sealed class InitConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    public void Parse_InitBoolean_Read(string value, bool expected)
    {
        var config = BerthConfigFile.Parse($$"""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "init": {{value}} } ] }""", _dir.Path);

        Assert.Equal(expected, Assert.Single(config.Containers).Init);
    }

    [Fact]
    public void Parse_InitAbsent_Null()
    {
        var config = BerthConfigFile.Parse("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox" } ] }""", _dir.Path);

        Assert.Null(Assert.Single(config.Containers).Init);
    }

    [Theory]
    [InlineData("\"yes\"", "'yes'")]
    [InlineData("1", "1")]
    public void Parse_InitNotBoolean_NamesFieldValueAndAllowed(string value, string shown)
    {
        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse(
            $$"""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "init": {{value}} } ] }""", _dir.Path));

        Assert.Equal($"containers[0].init: {shown} is not allowed; allowed: true or false", Assert.Single(ex.Problems));
    }

    [Fact]
    public void AddBerth_FileSetsInit_OverridesTheClassOptions()
    {
        _dir.Write("berth.jsonc", """{ "name": "app", "containers": [ { "class_name": "InitConfigured", "image": "busybox:1", "init": true } ] }""");

        Assert.True(ClassOptions(o => o.Init = false).Init);
    }

    [Fact]
    public void AddBerth_FileWithoutInit_KeepsWhatTheClassSetsInCode()
    {
        _dir.Write("berth.jsonc", """{ "name": "app", "containers": [ { "class_name": "InitConfigured", "image": "busybox:1" } ] }""");

        Assert.False(ClassOptions(o => o.Init = false).Init);
        Assert.Null(ClassOptions(null).Init);
    }

    private ContainerClassOptions ClassOptions(Action<ContainerClassOptions>? configure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = _dir.Path, DisableDefaults = true });
        builder.AddBerth(berth => berth.UseConfigFile().AddContainer<InitConfigured>(configure));
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptionsMonitor<ContainerClassOptions>>().Get(nameof(InitConfigured));
    }
}
