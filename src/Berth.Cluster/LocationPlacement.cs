using Berth.Objects;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Berth.Cluster;

/// <summary>
/// Berth's placement in a cluster, the default for every object: a new object goes to a node of the location its caller
/// hinted (<c>Get(id, locationHint)</c>, carried as <see cref="DurableObjectLocations.RequestContextKey"/>), else to the node that
/// received the call that creates it (prefer-local). A hint that names no live node's location places the object as
/// without a hint (and logs a warning): an object is never refused for its hint.
/// </summary>
[Serializable, GenerateSerializer, Immutable]
public sealed class LocationPlacement : PlacementStrategy
{
    /// <summary>The silo metadata key that carries a node's location label.</summary>
    public const string LocationMetadataKey = "berth.location";

    /// <summary>The silo metadata key that carries a node's ID.</summary>
    public const string NodeMetadataKey = "berth.node";

    internal static LocationPlacement Singleton { get; } = new();
}

/// <summary>Places new activations for <see cref="LocationPlacement"/>.</summary>
internal sealed class LocationPlacementDirector(ISiloMetadataCache metadata, ILogger<LocationPlacementDirector> logger) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (target.RequestContextData is { } data && data.TryGetValue(DurableObjectLocations.RequestContextKey, out var value) && value is string { Length: > 0 } hint)
        {
            var matching = compatible.Where(s => LocationOf(s) == hint).ToArray();
            if (matching.Length > 0)
            {
                return Task.FromResult(matching.Contains(context.LocalSilo) ? context.LocalSilo : matching[Random.Shared.Next(matching.Length)]);
            }

            Log.UnknownLocation(logger, hint, target.GrainIdentity.ToString());
        }

        return Task.FromResult(compatible.Contains(context.LocalSilo) || compatible.Length == 0
            ? context.LocalSilo
            : compatible[Random.Shared.Next(compatible.Length)]);
    }

    private string? LocationOf(SiloAddress silo) =>
        metadata.GetSiloMetadata(silo).Metadata.TryGetValue(LocationPlacement.LocationMetadataKey, out var location) ? location : null;
}
