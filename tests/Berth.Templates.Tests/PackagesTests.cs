using System.IO.Compression;
using System.Xml.Linq;
using Berth.Templates.Tests.Support;

namespace Berth.Templates.Tests;

/// <summary>What `dotnet pack` of the solution yields: the libraries, the `berth` tool and the template pack.</summary>
[Collection(PackedFeedCollection.Name)]
public sealed class PackagesTests(PackedFeed feed)
{
    /// <summary>The libraries an app needs; Berth.Hosting brings all of them.</summary>
    private static readonly string[] Libraries =
        ["Berth.Abstractions", "Berth.Storage", "Berth.Objects", "Berth.Docker", "Berth.Egress", "Berth.Containers", "Berth.Gateway", "Berth.Replication", "Berth.Cluster", "Berth.Hosting"];

    [Fact]
    public void Pack_Solution_EveryPackageHasTheVersionReadmeLicenceAndDescription()
    {
        string[] expected = [.. Libraries, "Berth.Cli", "Berth.Templates"];
        var packed = Directory.GetFiles(feed.Feed, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected.Select(id => $"{id}.{feed.Version}.nupkg").Order(StringComparer.Ordinal), packed);

        foreach (var id in expected)
        {
            using var package = ZipFile.OpenRead(feed.Package(id));
            var metadata = Metadata(package, id);
            Assert.Equal(id, Value(metadata, "id"));
            Assert.Equal(feed.Version, Value(metadata, "version"));
            Assert.Equal("README.md", Value(metadata, "readme"));
            Assert.NotNull(package.GetEntry("README.md"));
            Assert.Equal("MIT", Value(metadata, "license"));
            Assert.False(string.IsNullOrWhiteSpace(Value(metadata, "description")), $"{id} has no description");
            Assert.Contains("berth", Value(metadata, "tags"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Pack_Hosting_DependsOnEveryOtherLibraryAtTheSameVersion()
    {
        // Walk Berth.* dependencies from Berth.Hosting: every library must be reachable, at this pack's version.
        var reached = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(["Berth.Hosting"]);
        while (pending.TryPop(out var id))
        {
            if (!reached.Add(id))
            {
                continue;
            }

            using var package = ZipFile.OpenRead(feed.Package(id));
            foreach (var dependency in Metadata(package, id).Descendants().Where(e => e.Name.LocalName == "dependency"))
            {
                var dependencyId = (string)dependency.Attribute("id")!;
                if (dependencyId.StartsWith("Berth.", StringComparison.Ordinal))
                {
                    Assert.Equal(feed.Version, (string?)dependency.Attribute("version"));
                    pending.Push(dependencyId);
                }
            }
        }

        Assert.Equal(Libraries.Order(StringComparer.Ordinal), reached.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Pack_Cli_IsADotnetToolWhoseCommandIsBerth()
    {
        using var package = ZipFile.OpenRead(feed.Package("Berth.Cli"));

        var packageType = Metadata(package, "Berth.Cli").Descendants().Single(e => e.Name.LocalName == "packageType");
        Assert.Equal("DotnetTool", (string?)packageType.Attribute("name"));
        var settings = package.Entries.Single(e => e.FullName.EndsWith("/DotnetToolSettings.xml", StringComparison.Ordinal));
        using var stream = settings.Open();
        var command = XDocument.Load(stream).Descendants("Command").Single();
        Assert.Equal("berth", (string?)command.Attribute("Name"));
        Assert.Equal("berth.dll", (string?)command.Attribute("EntryPoint"));
    }

    [Fact]
    public void Pack_Templates_IsATemplatePackWithoutAssemblies()
    {
        using var package = ZipFile.OpenRead(feed.Package("Berth.Templates"));

        var packageType = Metadata(package, "Berth.Templates").Descendants().Single(e => e.Name.LocalName == "packageType");
        Assert.Equal("Template", (string?)packageType.Attribute("name"));
        Assert.NotNull(package.GetEntry("content/berth-app/.template.config/template.json"));
        Assert.DoesNotContain(package.Entries, e => e.FullName.EndsWith(".dll", StringComparison.Ordinal));
        Assert.DoesNotContain(package.Entries, e => e.FullName.Contains("launchSettings", StringComparison.Ordinal));
        Assert.DoesNotContain(package.Entries, e => e.FullName.Contains("/bin/", StringComparison.Ordinal) || e.FullName.Contains("/obj/", StringComparison.Ordinal));
    }

    private static XElement Metadata(ZipArchive package, string id)
    {
        var entry = package.GetEntry($"{id}.nuspec") ?? throw new InvalidOperationException($"{id} has no {id}.nuspec");
        using var stream = entry.Open();
        return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static string Value(XElement metadata, string name) =>
        metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
}
