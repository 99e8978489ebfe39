namespace Berth.Runtime;

/// <summary>An image as stored on the engine.</summary>
/// <param name="Id">The engine's image ID (<c>sha256:…</c>).</param>
/// <param name="Tags">Its tags (<c>repository:tag</c>); empty for an untagged image (never the engine's <c>&lt;none&gt;:&lt;none&gt;</c> placeholder).</param>
/// <param name="Labels">Its labels.</param>
/// <param name="SizeBytes">Its size, in bytes.</param>
public sealed record ImageInfo(string Id, IReadOnlyList<string> Tags, IReadOnlyDictionary<string, string> Labels, long SizeBytes);
