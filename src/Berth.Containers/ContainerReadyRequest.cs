using Berth.Runtime;
using Orleans.Concurrency;

namespace Berth.Containers;

/// <summary>One bounded wait of a caller on a container object's start (see <see cref="IContainer.WaitReadySliceAsync"/>).</summary>
/// <param name="Port">Port the caller needs; 0 or less for the default port.</param>
/// <param name="Ports">Ports to wait for instead, or <see langword="null"/>.</param>
/// <param name="Options">Options of the start, if this call starts the container.</param>
/// <param name="WaitForPorts">Whether to wait for the ports, or only for the container to run.</param>
/// <param name="Generation">The start this caller already waits on (from the previous slice), or 0 for a new wait.</param>
/// <param name="CallerNode">
/// The node whose gateway asks, when it forwards the request itself (<see cref="RemoteActivityTracker"/>); another node than
/// the object's holds the container awake until that node reports. <see langword="null"/> for every other caller.
/// </param>
[GenerateSerializer, Immutable]
public sealed record ContainerReadyRequest(
    [property: Id(0)] int Port,
    [property: Id(1)] IReadOnlyList<int>? Ports,
    [property: Id(2)] ContainerStartOptions? Options,
    [property: Id(3)] bool WaitForPorts,
    [property: Id(4)] long Generation,
    [property: Id(5)] string? CallerNode = null);
