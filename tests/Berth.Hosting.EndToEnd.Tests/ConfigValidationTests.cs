using Berth.Runtime;
using Microsoft.AspNetCore.Builder;

namespace Berth.Hosting.EndToEnd.Tests;

/// <summary>A bad <c>berth.jsonc</c> stops <c>AddBerth</c> itself: nothing is built, started or created.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class ConfigValidationTests(EndToEndFixture fixture) : IDisposable
{
    private readonly AppDirectory _app = new();

    public void Dispose() => _app.Delete();

    private BerthConfigException AddBerthWith(string json)
    {
        _app.WriteConfig(json);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Test", ContentRootPath = _app.Path });
        return Assert.Throws<BerthConfigException>(() => builder.AddBerth(berth => berth.UseConfigFile("berth.jsonc")));
    }

    [Fact]
    public async Task AddBerth_UnknownInstanceType_ThrowsNamingFieldValueAndAllowedBeforeAnythingStarts()
    {
        var error = AddBerthWith($$"""
            {
              "name": "{{_app.AppName}}",
              "containers": [ { "class_name": "Api", "image": "berth-test/app:latest", "instance_type": "huge" } ]
            }
            """);

        Assert.Equal(_app.ConfigPath, error.FilePath);
        var problem = Assert.Single(error.Problems);
        Assert.StartsWith("containers[0].instance_type:", problem, StringComparison.Ordinal);
        Assert.Contains("'huge'", problem, StringComparison.Ordinal);
        Assert.Contains("standard-1", problem, StringComparison.Ordinal);
        Assert.Contains(_app.ConfigPath, error.Message, StringComparison.Ordinal);

        // Refused before the host could start: the engine has nothing of this app, no data was written.
        var labels = new Dictionary<string, string> { [BerthLabels.App] = _app.AppName };
        Assert.Empty(await fixture.Runtime.ListAsync(labels));
        Assert.Empty(await fixture.Runtime.ListNetworksAsync(labels));
        Assert.Empty(await fixture.Runtime.ListImagesAsync(labels));
        Assert.Equal([_app.ConfigPath], Directory.GetFileSystemEntries(_app.Path));
    }

    [Fact]
    public void AddBerth_MisspeltField_SuggestsTheRightName()
    {
        var error = AddBerthWith($$"""
            { "name": "{{_app.AppName}}", "containers": [ { "class_name": "Api", "image": "berth-test/app:latest", "max_instance": 3 } ] }
            """);

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith("containers[0].max_instance:", problem, StringComparison.Ordinal);
        Assert.Contains("max_instances", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AddBerth_SeveralProblems_ReportsAllAtOnce()
    {
        var error = AddBerthWith("""
            {
              "name": "Not A Name",
              "containers": [ { "class_name": "Api", "image": "./missing/Dockerfile", "max_instances": 0 } ],
              "triggers": { "crons": ["*/2 * * *"] },
            }
            """);

        Assert.Contains(error.Problems, p => p.StartsWith("name:", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("containers[0].image:", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("containers[0].max_instances:", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("triggers.crons[0]:", StringComparison.Ordinal));
    }

    [Fact]
    public void AddBerth_MissingFile_ThrowsNamingThePath()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Test", ContentRootPath = _app.Path });

        var error = Assert.Throws<BerthConfigException>(() => builder.AddBerth(berth => berth.UseConfigFile("nope.jsonc")));

        Assert.Contains(Path.Combine(_app.Path, "nope.jsonc"), error.Message, StringComparison.Ordinal);
    }
}
