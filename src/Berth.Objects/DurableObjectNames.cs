namespace Berth.Objects;

/// <summary>
/// How an object learns the name its id was made from: the caller's flow carries it in Orleans' request context, and the
/// object keeps it once it checked that the name hashes to its own id (<see cref="DurableObjectContext.Name"/>).
/// </summary>
internal static class DurableObjectNames
{
    /// <summary>The request context key of the name.</summary>
    public const string RequestContextKey = "berth.object-name";

    /// <summary>Makes the calls that follow in this flow carry <paramref name="id"/>'s name, or none when it has no name.</summary>
    public static void Carry(DurableObjectId id)
    {
        if (id.Name is { Length: <= DurableObjectContext.MaxNameLength } name)
        {
            RequestContext.Set(RequestContextKey, name);
        }
        else if (RequestContext.Get(RequestContextKey) is not null)
        {
            RequestContext.Remove(RequestContextKey);
        }
    }
}
