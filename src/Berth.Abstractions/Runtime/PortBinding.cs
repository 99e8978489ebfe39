namespace Berth.Runtime;

/// <summary>A published port: the container's port and where it can be reached on the host.</summary>
/// <param name="ContainerPort">Port inside the container.</param>
/// <param name="HostAddress">Host address (always a loopback address for Berth).</param>
/// <param name="HostPort">Port on the host.</param>
public sealed record PortBinding(int ContainerPort, string HostAddress, int HostPort);
