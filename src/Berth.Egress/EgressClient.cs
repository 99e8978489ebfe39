using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Berth.Egress;

/// <summary>
/// One container the egress proxy serves: its policy, the log its denials go to (the object's), and its byte
/// counters. Registered by source address in <see cref="EgressClients"/> while the container runs.
/// </summary>
/// <param name="name">The container's name in logs (class and object ID).</param>
/// <param name="policy">Its egress policy.</param>
/// <param name="logger">The object's logger; allowed and denied connections are logged here.</param>
public sealed class EgressClient(string name, EgressPolicy policy, ILogger logger)
{
    /// <summary>The meter of the egress path (<c>Berth.Egress</c>).</summary>
    public const string MeterName = "Berth.Egress";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Counter <c>berth.egress.bytes</c> (unit <c>By</c>), tagged <c>direction</c> = <c>out</c> or <c>in</c>.</summary>
    private static readonly Counter<long> Bytes = Meter.CreateCounter<long>("berth.egress.bytes", "By", "Bytes through the egress proxy, per direction.");

    private static readonly KeyValuePair<string, object?> Out = new("direction", "out");
    private static readonly KeyValuePair<string, object?> In = new("direction", "in");

    private long _bytesOut;
    private long _bytesIn;

    /// <summary>The container's name in logs.</summary>
    public string Name { get; } = name;

    /// <summary>Its egress policy.</summary>
    public EgressPolicy Policy { get; } = policy;

    /// <summary>The object's logger.</summary>
    public ILogger Logger { get; } = logger;

    /// <summary>
    /// The object's outbound handlers: plain-HTTP requests to the hosts it routes are answered by the object before
    /// the policy is consulted (TLS to a by-host handler's host is refused). See <see cref="IOutboundHandler"/>.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: the policy decides every connection.</value>
    public IOutboundHandler? Outbound { get; init; }

    /// <summary>Bytes the container sent out through the proxy (request heads and bodies, TLS records), in bytes.</summary>
    public long BytesOut => Interlocked.Read(ref _bytesOut);

    /// <summary>Bytes the container received through the proxy, in bytes.</summary>
    public long BytesIn => Interlocked.Read(ref _bytesIn);

    private readonly ConnectionSlots _connections = new();

    /// <summary>Connections through the proxy this container holds now.</summary>
    public int Connections => _connections.Held;

    /// <summary>Takes a connection slot if fewer than <paramref name="max"/> are held; pair with <see cref="LeaveConnection"/>.</summary>
    internal bool TryEnterConnection(int max) => _connections.TryEnter(max);

    /// <summary>Gives back a slot taken by <see cref="TryEnterConnection"/>.</summary>
    internal void LeaveConnection() => _connections.Leave();

    internal void AddOut(long count)
    {
        Interlocked.Add(ref _bytesOut, count);
        Bytes.Add(count, Out);
    }

    internal void AddIn(long count)
    {
        Interlocked.Add(ref _bytesIn, count);
        Bytes.Add(count, In);
    }
}
