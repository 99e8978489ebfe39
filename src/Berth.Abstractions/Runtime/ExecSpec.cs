namespace Berth.Runtime;

/// <summary>A command to run inside a running container.</summary>
public sealed record ExecSpec
{
    /// <summary>Command and arguments.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Extra environment variables.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Working directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>User to run as.</summary>
    public string? User { get; init; }
}
