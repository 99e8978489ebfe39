namespace Berth.Containers;

/// <summary>A container object's state as persisted in its storage.</summary>
/// <param name="State">The state.</param>
/// <param name="ContainerId">Engine ID of the current or last container.</param>
/// <param name="ExitCode">Exit code of the last container, once it stopped.</param>
/// <param name="Reason">Why it last changed state (for example <c>sleep</c>, <c>oom</c>, <c>crash</c>).</param>
/// <param name="ChangedAt">When the state last changed.</param>
[GenerateSerializer, Immutable]
public sealed record ContainerObjectStatus(
    [property: Id(0)] ContainerObjectState State,
    [property: Id(1)] string? ContainerId,
    [property: Id(2)] int? ExitCode,
    [property: Id(3)] string? Reason,
    [property: Id(4)] DateTimeOffset ChangedAt)
{
    /// <summary>
    /// The last output lines of the last container when it exited with an error or failed to start, captured before
    /// it was removed; at most <see cref="ContainerOptions.ExitOutputLines"/> lines and <see cref="ContainerOptions.ExitOutputBytes"/> bytes.
    /// </summary>
    /// <value>Empty when the container stopped cleanly or had no output.</value>
    [Id(5)]
    public IReadOnlyList<string> LastOutput { get; init; } = [];

    /// <summary>
    /// Bytes the object's current (or last) container sent out through the node's egress proxy since the object was
    /// activated: request heads and bodies, TLS records. For metering.
    /// </summary>
    /// <value>In bytes; 0 when the class is not filtered (its traffic does not pass the proxy) or nothing went out.</value>
    [Id(6)]
    public long EgressBytesOut { get; init; }

    /// <summary>Bytes the object's current (or last) container received through the node's egress proxy since the object was activated.</summary>
    /// <value>In bytes; 0 when the class is not filtered or nothing came in.</value>
    [Id(7)]
    public long EgressBytesIn { get; init; }
}
