namespace Berth.Templates.Tests.Support;

/// <summary>The test classes that share one pack (packing takes a minute; once per run is enough).</summary>
[CollectionDefinition(Name)]
public sealed class PackedFeedCollection : ICollectionFixture<PackedFeed>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "packed feed";
}
