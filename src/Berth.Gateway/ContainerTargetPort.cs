namespace Berth.Gateway;

/// <summary>
/// The request feature that chooses which port of the container a request goes to, set by
/// <see cref="ContainerRequestExtensions.SwitchPort"/> in the app's code. Routing state lives in the
/// request's features, never in its headers: nothing a client sends chooses a port.
/// </summary>
public sealed class ContainerTargetPort
{
    // One immutable instance per port, made on first use, so SwitchPort allocates nothing per request.
    private static readonly ContainerTargetPort?[] Cache = new ContainerTargetPort?[65536];

    private ContainerTargetPort(int port) => Port = port;

    /// <summary>The container port, 1 to 65535.</summary>
    public int Port { get; }

    /// <summary>The shared instance for <paramref name="port"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is not between 1 and 65535.</exception>
    public static ContainerTargetPort For(int port)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        return Volatile.Read(ref Cache[port]) ?? Interlocked.CompareExchange(ref Cache[port], new ContainerTargetPort(port), null) ?? Cache[port]!;
    }
}
