using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Berth.Hosting.Tests;

/// <summary>The JSON Schema editors use for berth.jsonc (schema/berth.schema.json) agrees with the loader.</summary>
public sealed class BerthConfigSchemaTests
{
    private static readonly JsonDocumentOptions Jsonc = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private static readonly Lazy<string> RepoRoot = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Berth.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Berth.slnx above {AppContext.BaseDirectory}.");
    });

    private static readonly Lazy<JsonObject> SchemaDocument = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(RepoRoot.Value, "schema", "berth.schema.json")))!.AsObject());

    // Built once: the library registers a schema by its base URI.
    private static readonly Lazy<JsonSchema> Schema = new(() =>
        JsonSchema.FromText(File.ReadAllText(Path.Combine(RepoRoot.Value, "schema", "berth.schema.json"))));

    public static TheoryData<string> RepoConfigFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in ConfigFilePaths())
        {
            data.Add(file);
        }

        return data;
    }

    /// <summary>Every berth.jsonc in the repository (samples, templates, tests), relative to its root; build output left out.</summary>
    private static List<string> ConfigFilePaths()
    {
        var root = RepoRoot.Value;
        return [.. Directory.EnumerateFiles(root, "berth.jsonc", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or ".git" or "node_modules"))
            .Order(StringComparer.Ordinal)];
    }

    [Fact]
    public void RepoConfigFiles_Found_AtLeastTheSamples()
    {
        var files = ConfigFilePaths();

        Assert.Contains(files, f => f.Contains("Sandbox", StringComparison.Ordinal));
        Assert.Contains(files, f => f.Contains("Titanic", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(RepoConfigFiles))]
    public void Schema_RepoConfigFile_ValidAndLoads(string relativePath)
    {
        var path = Path.Combine(RepoRoot.Value, relativePath);
        using var document = JsonDocument.Parse(File.ReadAllText(path), Jsonc);

        var result = Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.True(result.IsValid, $"{relativePath}: {Describe(result)}");
        Assert.NotNull(BerthConfigFile.Load(path));
    }

    [Fact]
    public void Schema_Fields_SameAsLoader()
    {
        var root = SchemaDocument.Value;
        var container = root["$defs"]!["container"]!.AsObject();
        var instanceType = container["properties"]!["instance_type"]!["oneOf"]!.AsArray();

        Assert.Equal(Sorted(ConfigReader.RootFields), PropertyNames(root));
        Assert.Equal(Sorted(ConfigReader.ContainerFields), PropertyNames(container));
        Assert.Equal(Sorted(ConfigReader.TriggersFields), PropertyNames(root["properties"]!["triggers"]!.AsObject()));
        Assert.Equal(Sorted(ConfigReader.InstanceTypeFields), PropertyNames(instanceType[1]!.AsObject()));
        Assert.Equal(Sorted(InstanceType.KnownNames), instanceType[0]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(2, instanceType.Count);
        Assert.Equal(Sorted(ConfigReader.AutoscalingFields), PropertyNames(container["properties"]!["autoscaling"]!.AsObject()));
    }

    [Fact]
    public void Schema_EveryObject_ClosedLikeTheLoader()
    {
        // The loader refuses unknown fields everywhere, so the schema must too (editors then flag typos).
        var root = SchemaDocument.Value;
        var container = root["$defs"]!["container"]!.AsObject();
        JsonObject[] closed =
        [
            root, container, root["properties"]!["triggers"]!.AsObject(),
            container["properties"]!["instance_type"]!["oneOf"]![1]!.AsObject(),
            container["properties"]!["autoscaling"]!.AsObject(),
        ];

        Assert.All(closed, o => Assert.False(o["additionalProperties"]!.GetValue<bool>()));
        Assert.All(ConfigReader.NotSupportedYet, field => Assert.DoesNotContain(field, PropertyNames(root).Concat(PropertyNames(container))));
    }

    [Theory]
    [InlineData("""{ "name": "app", "trigers": {} }""")]
    [InlineData("""{ "name": "My App" }""")]
    [InlineData("""{ }""")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "sleep_after": "ten minutes" } ] }""")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "instance_type": "huge" } ] }""")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "max_instances": 0 } ] }""")]
    [InlineData("""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "durable_objects": [] } ] }""")]
    [InlineData("""{ "name": "app", "vars": { "A": { "nested": 1 } } }""")]
    public void Schema_FileTheLoaderRefuses_Invalid(string json)
    {
        using var dir = new TempDirectory();
        Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse(json, dir.Path));
        using var document = JsonDocument.Parse(json, Jsonc);

        Assert.False(Schema.Value.Evaluate(document.RootElement).IsValid);
    }

    private static List<string> Sorted(IEnumerable<string> names) => [.. names.Order(StringComparer.Ordinal)];

    private static List<string> PropertyNames(JsonObject schema) =>
        [.. schema["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal)];

    private static string Describe(EvaluationResults result) =>
        string.Join("; ", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .Select(d => $"{d.InstanceLocation}: {string.Join(", ", d.Errors!.Values)}"));
}
