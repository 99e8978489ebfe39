using Microsoft.Extensions.Options;

namespace Berth.Gateway;

/// <summary>Settings of the gateway's data plane.</summary>
public sealed class GatewayOptions
{
    /// <summary>How long a forwarded request may go without sending or receiving a byte.</summary>
    /// <value>Defaults to 100 seconds.</value>
    public TimeSpan RequestActivityTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>How long an upgraded connection (WebSocket) may stay idle; its container does not sleep meanwhile.</summary>
    /// <value>Defaults to 24 hours.</value>
    public TimeSpan UpgradedActivityTimeout { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// The largest request body, in bytes, forwarded to a container; a larger one is answered <c>413 body_too_large</c>
    /// naming the limit (before forwarding when the client declares its length, else when the limit is crossed).
    /// <see langword="null"/> means no limit. A route overrides it with <see cref="GatewayExtensions.WithMaxRequestBodySize"/>.
    /// It replaces Kestrel's own limit (30,000,000 bytes by default) on container routes.
    /// </summary>
    /// <value>Defaults to 104,857,600 bytes (100 MiB), no lower than the seed platform's 100 MB request body limit.</value>
    public long? MaxRequestBodySize { get; set; } = DefaultMaxRequestBodySize;

    /// <summary>The default of <see cref="MaxRequestBodySize"/>: 100 MiB.</summary>
    public const long DefaultMaxRequestBodySize = 100L * 1024 * 1024;

    /// <summary>
    /// How many container names each class keeps the ID of (<see cref="ContainerNamespace{TContainer}.GetByName"/>), so a
    /// warm request does not hash its name again. When the table is full it is emptied and refills with the names in
    /// use, so names a client invents cannot grow the gateway's memory. 0 turns the cache off. Allowed: 0–1,000,000.
    /// </summary>
    /// <value>Defaults to 10,000 names (about 2 MB at most per class).</value>
    public int NameCacheSize { get; set; } = DefaultNameCacheSize;

    /// <summary>The default of <see cref="NameCacheSize"/>: 10,000 names.</summary>
    public const int DefaultNameCacheSize = 10_000;

    /// <summary>
    /// The most connections the gateway keeps open to one container address for requests without a body (each carries one
    /// request at a time); further requests wait for one to be free. <see langword="null"/>: no limit, so the pool grows to
    /// the number of requests in flight and then reuses its connections.
    /// </summary>
    /// <value>Defaults to <see langword="null"/> (no limit).</value>
    public int? MaxConnectionsPerContainer { get; set; }

    /// <summary>
    /// How long an idle pooled connection to a container stays open for the next request. Shorter than the app server's
    /// own keep-alive (Kestrel: 130 s, nginx: 75 s), so the gateway closes it first and never sends on a closing one.
    /// </summary>
    /// <value>Defaults to 60 seconds.</value>
    public TimeSpan PooledConnectionIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// What forwards a request without a body (GET, HEAD, DELETE, OPTIONS: the warm path) to its container.
    /// <see cref="ContainerForwarderKind.Http1"/> writes it from Kestrel's request onto a pooled HTTP/1.1 connection and the
    /// answer straight into Kestrel's response; <see cref="ContainerForwarderKind.Yarp"/> goes through YARP's forwarder and
    /// .NET's <c>SocketsHttpHandler</c>, as requests with a body, upgrades and hops between nodes always do. With
    /// <see cref="MaxConnectionsPerContainer"/> set, every request goes through YARP (its pool enforces the limit).
    /// bench/README.md ("Warm data plane") measures both.
    /// </summary>
    /// <value>Defaults to <see cref="ContainerForwarderKind.Http1"/>.</value>
    public ContainerForwarderKind Forwarder { get; set; } = ContainerForwarderKind.Http1;

    /// <summary>
    /// Runs Kestrel's continuations inline (<c>SocketTransportOptions.UnsafePreferInlineScheduling</c>) instead of handing
    /// each one to the thread pool, as nginx's event loop does; with <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>
    /// in the host's environment a warm request then runs on the socket engine's thread from the client's bytes to the
    /// container's answer. On 2 cores this cut the gateway's own CPU per request (29.5 → 25.2 µs with no thread-pool
    /// spinning) but not its throughput, as the container's CPU per request rose as much (bench/README.md, "Warm data
    /// plane"): measure it on the host. Off by default because the app's own request code then runs on that thread too: a route that blocks
    /// (synchronous I/O, <c>Task.Result</c>) stalls every connection the thread serves. docs/gateway.md has the tuning.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool InlineScheduling { get; set; }

    /// <summary>
    /// Whether the gateway's answers for a container that failed to start or is in a crash loop (<c>exited_during_start</c>,
    /// <c>port_timeout</c>, <c>crash_loop</c>, …) carry the container's last output lines, as issue 9 asked (every request
    /// says the exit code and shows the last output). They are whatever the app printed (a stack trace, a file path, a
    /// secret it logged) and go to whoever sent the request: a host that serves the public can set this to
    /// <see langword="false"/>, and the message then ends "Its last output is in the host's log", which has them either way.
    /// docs/errors.md.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool ContainerOutputInErrors { get; set; } = true;

    /// <summary>The largest allowed <see cref="NameCacheSize"/>: 1,000,000 names.</summary>
    public const int MaxNameCacheSize = 1_000_000;
}

/// <summary>What forwards requests without a body to containers (<see cref="GatewayOptions.Forwarder"/>).</summary>
public enum ContainerForwarderKind
{
    /// <summary>Berth's HTTP/1.1 forwarder between Kestrel and a pooled connection (the default).</summary>
    Http1,

    /// <summary>YARP's forwarder with .NET's <c>SocketsHttpHandler</c>.</summary>
    Yarp,
}

internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        if (options.RequestActivityTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Berth:Gateway:RequestActivityTimeout: '{options.RequestActivityTimeout}' is not allowed; use a positive time span.");
        }

        if (options.UpgradedActivityTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Berth:Gateway:UpgradedActivityTimeout: '{options.UpgradedActivityTimeout}' is not allowed; use a positive time span.");
        }

        if (options.MaxRequestBodySize is <= 0)
        {
            failures.Add($"Berth:Gateway:MaxRequestBodySize: '{options.MaxRequestBodySize}' is not allowed; use a positive number of bytes, or null for no limit.");
        }

        if (options.MaxConnectionsPerContainer is < 1)
        {
            failures.Add($"Berth:Gateway:MaxConnectionsPerContainer: '{options.MaxConnectionsPerContainer}' is not allowed; use a positive number of connections, or null for no limit.");
        }

        if (options.PooledConnectionIdleTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Berth:Gateway:PooledConnectionIdleTimeout: '{options.PooledConnectionIdleTimeout}' is not allowed; use a positive time span.");
        }

        if (!Enum.IsDefined(options.Forwarder))
        {
            failures.Add($"Berth:Gateway:Forwarder: '{options.Forwarder}' is not allowed; use Http1 or Yarp.");
        }

        if (options.NameCacheSize is < 0 or > GatewayOptions.MaxNameCacheSize)
        {
            failures.Add($"Berth:Gateway:NameCacheSize: '{options.NameCacheSize}' is not allowed; use 0 (no cache) to 1000000 names.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
