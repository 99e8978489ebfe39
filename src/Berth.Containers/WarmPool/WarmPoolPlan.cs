namespace Berth.Containers;

/// <summary>The warm pool's arithmetic, apart from the engine so it can be checked on its own.</summary>
internal static class WarmPoolPlan
{
    /// <summary>
    /// How many prewarmed containers to start creating now: what the pool lacks (<paramref name="target"/> minus those
    /// ready and being created), never more than the room <paramref name="maxInstances"/> leaves next to the
    /// <paramref name="counted"/> containers of the class (running, starting, ready and being created all count).
    /// </summary>
    public static int ToCreate(int target, int ready, int creating, int counted, int maxInstances) =>
        Math.Max(0, Math.Min(target - ready - creating, maxInstances - counted));

    /// <summary>The wait after the <paramref name="failures"/>-th failure in a row: <paramref name="initial"/>, doubled each time, at most <paramref name="max"/>.</summary>
    public static TimeSpan Backoff(int failures, TimeSpan initial, TimeSpan max)
    {
        if (failures <= 0)
        {
            return TimeSpan.Zero;
        }

        var delay = initial;
        for (var i = 1; i < failures && delay < max; i++)
        {
            delay *= 2;
        }

        return delay < max ? delay : max;
    }
}
