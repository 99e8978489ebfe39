namespace Berth.Egress;

/// <summary>
/// Which outbound handler answers a host: the host patterns of <c>OutboundByHost</c> (exact names and
/// <see cref="HostGlob"/> globs) and whether a catch-all exists. An exact name wins over every glob; among globs the
/// longest pattern wins (ties: the ordinal order of the patterns), so the answer never depends on the order
/// handlers were added. Hosts no pattern matches go to the catch-all when there is one. Immutable: safe to read
/// from the proxy's threads.
/// </summary>
public sealed class OutboundRouteTable
{
    private readonly Dictionary<string, string> _exact;
    private readonly (HostGlob Glob, string Pattern)[] _globs;

    private OutboundRouteTable(Dictionary<string, string> exact, (HostGlob, string)[] globs, bool catchAll)
    {
        _exact = exact;
        _globs = globs;
        HasCatchAll = catchAll;
    }

    /// <summary>A table with no handler: every host follows the egress policy.</summary>
    public static OutboundRouteTable Empty { get; } = new(new Dictionary<string, string>(StringComparer.Ordinal), [], false);

    /// <summary>Builds a table.</summary>
    /// <param name="patterns">The host patterns of the by-host handlers: exact names (<c>api.internal</c>) or globs (<c>*.internal</c>); case-insensitive.</param>
    /// <param name="catchAll">Whether a catch-all handler answers every other host.</param>
    /// <exception cref="ArgumentException">A pattern is not a valid host name or glob, or two patterns are the same host.</exception>
    public static OutboundRouteTable Create(IEnumerable<string> patterns, bool catchAll)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        var exact = new Dictionary<string, string>(StringComparer.Ordinal);
        var globs = new List<(HostGlob, string)>();
        foreach (var pattern in patterns)
        {
            var glob = HostGlob.Parse(pattern);
            var key = glob.Pattern;
            if (!key.Contains('*', StringComparison.Ordinal))
            {
                if (!exact.TryAdd(key, pattern))
                {
                    throw new ArgumentException($"OutboundByHost names host '{key}' twice.", nameof(patterns));
                }
            }
            else
            {
                if (globs.Any(g => g.Item1.Pattern == key))
                {
                    throw new ArgumentException($"OutboundByHost names glob '{key}' twice.", nameof(patterns));
                }

                globs.Add((glob, pattern));
            }
        }

        var ordered = globs.OrderByDescending(g => g.Item1.Pattern.Length).ThenBy(g => g.Item1.Pattern, StringComparer.Ordinal).ToArray();
        return new OutboundRouteTable(exact, ordered, catchAll);
    }

    /// <summary>Whether a catch-all handler answers hosts no pattern matches.</summary>
    public bool HasCatchAll { get; }

    /// <summary>Whether the table routes anything at all.</summary>
    public bool IsEmpty => !HasCatchAll && _exact.Count == 0 && _globs.Length == 0;

    /// <summary>The exact host names (no globs), lowercase: the names a container's hosts file points at the proxy.</summary>
    public IEnumerable<string> ExactHosts => _exact.Keys;

    /// <summary>Routes <paramref name="host"/>.</summary>
    /// <param name="host">The host the container asked for (any case, no port).</param>
    /// <param name="pattern">The pattern of the by-host handler, as given to <see cref="Create"/>; <see langword="null"/> for the catch-all or no route.</param>
    public OutboundRoute Route(string host, out string? pattern)
    {
        pattern = null;
        if (string.IsNullOrEmpty(host) || !HostName.IsValid(host))
        {
            // Not a host name a handler could be named for: only the catch-all may answer it.
            return HasCatchAll ? OutboundRoute.CatchAll : OutboundRoute.None;
        }

        var normalized = host.ToLowerInvariant();
        if (_exact.TryGetValue(normalized, out var exact))
        {
            pattern = exact;
            return OutboundRoute.ByHost;
        }

        foreach (var (glob, original) in _globs)
        {
            if (glob.IsMatch(normalized))
            {
                pattern = original;
                return OutboundRoute.ByHost;
            }
        }

        return HasCatchAll ? OutboundRoute.CatchAll : OutboundRoute.None;
    }
}
