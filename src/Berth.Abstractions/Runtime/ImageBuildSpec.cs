namespace Berth.Runtime;

/// <summary>An image to build from a Dockerfile and a context directory.</summary>
public sealed record ImageBuildSpec
{
    /// <summary>Directory sent to the engine as the build context.</summary>
    public required string ContextDirectory { get; init; }

    /// <summary>Dockerfile path relative to the context.</summary>
    public string Dockerfile { get; init; } = "Dockerfile";

    /// <summary>Tags for the built image (at least one).</summary>
    public required IReadOnlyList<string> Tags { get; init; }

    /// <summary>Build arguments (<c>ARG</c> values).</summary>
    public IReadOnlyDictionary<string, string> BuildArgs { get; init; } = new Dictionary<string, string>();

    /// <summary>Labels for the image.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
}
