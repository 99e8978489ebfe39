using Orleans.Concurrency;

namespace Berth.Containers;

/// <summary>A piece of an exec'd command's output, in the order the command wrote it.</summary>
/// <param name="Stream">Standard output or standard error.</param>
/// <param name="Data">The bytes, at most 64 KiB.</param>
[GenerateSerializer, Immutable]
public sealed record ContainerExecFrame(
    [property: Id(0)] ContainerExecStream Stream,
    [property: Id(1)] byte[] Data);
