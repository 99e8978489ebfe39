namespace Berth.Hosting;

/// <summary>Options of the host's health checks (section <c>Berth:Health</c>).</summary>
public sealed class BerthHealthOptions
{
    /// <summary>How long the readiness check waits for the engine's ping.</summary>
    /// <value>Default 2 s; 100 ms to 1 min.</value>
    public TimeSpan EngineTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
