using Berth.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Hosting.Tests;

/// <summary>berth.jsonc's top-level <c>keep_versions</c>: read, checked with the allowed values named, and fed to <see cref="RegistryOptions.KeepVersions"/>.</summary>
public sealed class KeepVersionsConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Parse_KeepVersions_Read()
    {
        Assert.Equal(12, Parse("\"keep_versions\": 12").KeepVersions);
    }

    [Fact]
    public void Parse_NoKeepVersions_Null()
    {
        Assert.Null(Parse("\"vars\": {}").KeepVersions);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    [InlineData("2.5")]
    [InlineData("\"5\"")]
    public void Parse_KeepVersionsOutOfRange_RejectedNamingFieldAndAllowedValues(string value)
    {
        var ex = Assert.Throws<BerthConfigException>(() => Parse($"\"keep_versions\": {value}"));

        var problem = Assert.Single(ex.Problems);
        Assert.StartsWith("keep_versions", problem, StringComparison.Ordinal);
        Assert.Contains("1 to 1000", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AddBerthVars_KeepVersions_SetsRegistryOptions()
    {
        var options = Bind(Parse("\"keep_versions\": 3"), null);

        Assert.Equal(3, options.KeepVersions);
    }

    [Fact]
    public void AddBerthVars_KeepVersionsAndAppSetting_AppSettingWins()
    {
        var options = Bind(Parse("\"keep_versions\": 3"), "7");

        Assert.Equal(7, options.KeepVersions);
    }

    [Fact]
    public void AddBerthVars_NoKeepVersions_DefaultKept()
    {
        Assert.Equal(new RegistryOptions().KeepVersions, Bind(Parse("\"vars\": {}"), null).KeepVersions);
    }

    private static RegistryOptions Bind(BerthAppConfig config, string? appSetting)
    {
        var configuration = new ConfigurationBuilder();
        if (appSetting is not null)
        {
            configuration.AddInMemoryCollection([KeyValuePair.Create(BerthConfigExtensions.KeepVersionsKey, (string?)appSetting)]);
        }

        configuration.AddBerthVars(config);
        var root = configuration.Build();
        using var services = new ServiceCollection().AddOptions<RegistryOptions>().Bind(root.GetSection("Berth:Registry")).Services.BuildServiceProvider();
        return services.GetRequiredService<IOptions<RegistryOptions>>().Value;
    }

    private BerthAppConfig Parse(string fields) => BerthConfigFile.Parse($$"""{ "name": "app", {{fields}} }""", _dir.Path);
}
