using Berth.Runtime;
using Orleans.Concurrency;

namespace Berth.Containers;

/// <summary>The answer to one slice of a stop.</summary>
/// <param name="Done">Whether the container stopped (or none ran).</param>
/// <param name="Generation">The stop in flight, to pass to the next slice.</param>
[GenerateSerializer, Immutable]
public sealed record ContainerStopSlice([property: Id(0)] bool Done, [property: Id(1)] long Generation);
