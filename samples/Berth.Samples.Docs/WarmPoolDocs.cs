using Berth.Containers;

namespace Berth.Samples.Docs.Prewarmed;

// snippet: class
/// <summary>A class whose containers may be prewarmed: nothing per object in its environment.</summary>
public sealed class Renderer : Container
{
    public Renderer()
    {
        DefaultPort = 8080;
        EnvVars["MODE"] = "render";            // the same for every object: fine in a prewarmed container
    }
}
// end snippet: class

/// <summary>docs/warm-pool.md.</summary>
internal static class WarmPoolDocs
{
    public static void Register(IServiceCollection services)
    {
        // snippet: register
        services.AddContainer<Renderer>(o =>
        {
            o.Image = "renderer:1.4";
            o.MaxInstances = 20;
            o.PrewarmedInstances = 2;          // prewarmed_instances in berth.jsonc; 0 (the default) turns the pool off
        });
        // end snippet: register
    }

    // snippet: identity
    /// <summary>Inside the container: the object's ID, from the environment (cold start) or the claim file (warm pool).</summary>
    public static async Task<string?> ObjectIdAsync(CancellationToken cancellationToken)
    {
        if (Environment.GetEnvironmentVariable("BERTH_OBJECT_ID") is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        // /run/berth/object-id is written before the container is unpaused, so it is there by the first request.
        return File.Exists(WarmPool.ObjectIdFile)
            ? (await File.ReadAllTextAsync(WarmPool.ObjectIdFile, cancellationToken)).Trim()
            : null;
    }
    // end snippet: identity
}
