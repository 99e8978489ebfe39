using Berth.Containers;

namespace Berth.Cluster.TestNode;

/// <summary>The HTTP test app (port 8080) as a container class, for the cross-node request and failover tests.</summary>
public sealed class ProbeContainer : Container
{
    public ProbeContainer()
    {
        DefaultPort = 8080;
    }
}
