using Orleans.Concurrency;

namespace Berth.Containers;

/// <summary>A command to run with <see cref="IContainer.StartExecAsync"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record ContainerExecRequest
{
    /// <summary>Command and arguments; required, non-empty.</summary>
    [Id(0)]
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Sent to the command's standard input, which is then closed; <see langword="null"/> for no input.</summary>
    [Id(1)]
    public byte[]? Stdin { get; init; }

    /// <summary>
    /// Keep at most <see cref="ContainerExecOptions.MaxOutputBytes"/> per stream and discard the rest (the typed API).
    /// When <see langword="false"/>, all output is passed on as the caller pulls it (the admin API's streaming exec).
    /// </summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    [Id(2)]
    public bool Capped { get; init; } = true;
}
