using System.Text.Json.Nodes;

namespace Berth.Hosting.Tests;

/// <summary>The <c>metering</c> section of schema/berth.schema.json agrees with the loader.</summary>
public sealed class MeteringSchemaTests
{
    private static JsonObject Metering()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "schema", "berth.schema.json");
            if (File.Exists(Path.Combine(dir.FullName, "Berth.slnx")) && File.Exists(path))
            {
                return JsonNode.Parse(File.ReadAllText(path))!["properties"]!["metering"]!.AsObject();
            }
        }

        throw new InvalidOperationException($"No schema/berth.schema.json above {AppContext.BaseDirectory}.");
    }

    private static List<string> Names(JsonObject schema) => [.. schema["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal)];

    [Fact]
    public void Schema_MeteringFields_SameAsLoaderAndClosed()
    {
        var metering = Metering();

        Assert.Equal([.. ConfigReader.MeteringFields.Order(StringComparer.Ordinal)], Names(metering));
        Assert.Equal([.. ConfigReader.MeteringRateFields.Order(StringComparer.Ordinal)], Names(metering["properties"]!["rates"]!.AsObject()));
        Assert.Equal([.. ConfigReader.MeteringIncludedFields.Order(StringComparer.Ordinal)], Names(metering["properties"]!["included"]!.AsObject()));
        Assert.All(new[] { metering, metering["properties"]!["rates"]!.AsObject(), metering["properties"]!["included"]!.AsObject() },
            o => Assert.False(o["additionalProperties"]!.GetValue<bool>()));
    }
}
