using Berth.Runtime;
using Orleans.Concurrency;

namespace Berth.Containers;

/// <summary>The answer to one slice: the result, or <see langword="null"/> with the start to keep waiting on.</summary>
/// <param name="Result">The result once the start ended; <see langword="null"/> while it runs.</param>
/// <param name="Generation">The start in flight, to pass to the next slice.</param>
[GenerateSerializer, Immutable]
public sealed record ContainerReadySlice(
    [property: Id(0)] ContainerReadyResult? Result,
    [property: Id(1)] long Generation);
