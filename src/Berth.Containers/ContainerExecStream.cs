namespace Berth.Containers;

/// <summary>Which output stream of an exec'd command a <see cref="ContainerExecFrame"/> came from.</summary>
public enum ContainerExecStream
{
    /// <summary>Standard output.</summary>
    Stdout,

    /// <summary>Standard error.</summary>
    Stderr,
}
