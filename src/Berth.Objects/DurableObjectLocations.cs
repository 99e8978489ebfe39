namespace Berth.Objects;

/// <summary>
/// How a location hint (<see cref="DurableObjectNamespace{TObject}.Get(DurableObjectId, string?)"/>) reaches placement: the
/// caller's flow carries it in Orleans' request context under <see cref="RequestContextKey"/>, and a cluster's placement
/// (Berth.Cluster) places a new object on a node of that location. A single node ignores it.
/// </summary>
public static class DurableObjectLocations
{
    /// <summary>The request context key of the location hint.</summary>
    public const string RequestContextKey = "berth.location-hint";

    /// <summary>Makes the calls that follow in this flow carry <paramref name="locationHint"/>, or none when it is null or empty.</summary>
    internal static void Carry(string? locationHint)
    {
        if (!string.IsNullOrEmpty(locationHint))
        {
            RequestContext.Set(RequestContextKey, locationHint);
        }
        else if (RequestContext.Get(RequestContextKey) is not null)
        {
            RequestContext.Remove(RequestContextKey);
        }
    }
}
