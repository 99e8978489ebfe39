using System.Collections.Frozen;

namespace Berth.Hosting;

/// <summary>An image built from a Dockerfile when the app starts, cached by content (see <see cref="ImageContentHash"/>).</summary>
/// <param name="DockerfilePath">Full path of the Dockerfile.</param>
/// <param name="ContextDirectory">Full path of the build context; contains <paramref name="DockerfilePath"/>.</param>
/// <param name="BuildArgs">Build arguments (<c>image_vars</c>).</param>
public sealed record DockerfileImage(
    string DockerfilePath,
    string ContextDirectory,
    IReadOnlyDictionary<string, string> BuildArgs) : ConfiguredImage;
