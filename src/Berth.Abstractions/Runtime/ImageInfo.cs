namespace Berth.Runtime;

/// <summary>An image as stored on the engine.</summary>
public sealed record ImageInfo(string Id, IReadOnlyList<string> Tags, IReadOnlyDictionary<string, string> Labels, long SizeBytes);
