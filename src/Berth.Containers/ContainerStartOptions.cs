using Berth.Objects;
using Berth.Runtime;
using Orleans.Concurrency;

namespace Berth.Containers;

/// <summary>Options for one start, overriding the class's defaults (the seed's <c>customBoot</c> pattern).</summary>
[GenerateSerializer, Immutable]
public sealed record ContainerStartOptions
{
    /// <summary>Extra environment variables for this start.</summary>
    [Id(0)]
    public IReadOnlyDictionary<string, string>? EnvVars { get; init; }

    /// <summary>Entrypoint for this start.</summary>
    [Id(1)]
    public IReadOnlyList<string>? Entrypoint { get; init; }

    /// <summary>Internet access for this start.</summary>
    [Id(2)]
    public bool? EnableInternet { get; init; }
}
