using System.Collections.Frozen;

namespace Berth.Hosting;

/// <summary>An image that already exists on the engine, named by reference (for example <c>myapp:1.2</c>).</summary>
/// <param name="Reference">The image reference as written in the file.</param>
public sealed record ImageReference(string Reference) : ConfiguredImage;
